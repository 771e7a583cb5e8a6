// The generic HTTP adapter against a real HTTP server on loopback (cpp-httplib) that can
// misbehave: errors, slow answers, malformed JSON.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "adapters/fake_job.h"
#include "durability/durability_util.h"
#include "http/http_client.h"
#include "ordo/adapters/adapters.h"
#include "ordo/engine.h"
#include "ordo/loader.h"
#include "peers/http_peer.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;

using Peer = HttpPeer;
using testing::FakeJob;

TaskHandler adapter(const json& settings) {
  auto h = make_http_adapter(settings, "adapters.erp.check");
  EXPECT_TRUE(h.is_ok()) << h.status().to_string();
  return h.is_ok() ? *h : TaskHandler();
}

TEST(HttpAdapter, BadSettingsAreErrorsNamingTheSetting) {
  auto missing = make_http_adapter(json{{"method", "POST"}}, "adapters.erp.check");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("adapters.erp.check.url"), std::string::npos);
  auto unknown = make_http_adapter(json{{"url", "http://x"}, {"timeout", 5}}, "adapters.a");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("adapters.a.timeout"), std::string::npos);
  auto feel = make_http_adapter(json{{"url", "http://x"}, {"output", {{"ok", "=response.("}}}},
                                "adapters.a");
  ASSERT_FALSE(feel.is_ok());
  EXPECT_NE(feel.status().message().find("adapters.a.output.ok"), std::string::npos);
  auto method = make_http_adapter(json{{"url", "http://x"}, {"method", "FETCH"}}, "adapters.a");
  ASSERT_FALSE(method.is_ok());
  EXPECT_NE(method.status().message().find("GET, POST"), std::string::npos);
}

TEST(HttpAdapter, BuildsTheRequestFromVariablesAndMapsTheAnswer) {
  Peer peer;
  peer.server().Post(R"(/stock/(.*))", [&](const httplib::Request& req, httplib::Response& res) {
    peer.record(req);
    json body = json::parse(req.body);
    res.set_content(json{{"available", body["items"].size() == 2}, {"warehouse", "WH-3"}}.dump(),
                    "application/json");
  });
  TaskHandler h = adapter({{"url", "=\"" + peer.url("/stock/") + "\" + orderId"},
                           {"body", "={items: items, customer: customer.name}"},
                           {"headers", {{"X-Shop", "=shop"}}},
                           {"output",
                            {{"available", "=response.body.available"},
                             {"warehouse", "=response.body.warehouse"},
                             {"httpStatus", "=response.status"}}}});
  FakeJob job(json{{"orderId", "A-1"},
                   {"shop", "de"},
                   {"items", {{{"sku", "S-1"}}, {{"sku", "S-2"}}}},
                   {"customer", {{"name", "Anna"}}}});
  JobOutcome out = h(job);
  ASSERT_EQ(out.kind(), JobOutcome::Kind::kComplete) << out.message();
  EXPECT_EQ(out.variables(),
            json({{"available", true}, {"warehouse", "WH-3"}, {"httpStatus", 200}}));
  auto seen = peer.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/stock/A-1");
  EXPECT_EQ(seen[0].idempotency_key, "order:3:2");
  EXPECT_EQ(seen[0].custom, "de");
  EXPECT_EQ(json::parse(seen[0].body),
            json({{"items", {{{"sku", "S-1"}}, {{"sku", "S-2"}}}}, {"customer", "Anna"}}));
}

TEST(HttpAdapter, ClassifiesWhatGoesWrong) {
  Peer peer;
  peer.server().Get("/busy", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content("maintenance", "text/plain");
  });
  peer.server().Get("/gone", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(R"({"error":"no such order"})", "application/json");
  });
  peer.server().Get("/garbled", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html>Bad gateway</html>", "text/html");
  });
  peer.server().Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    res.set_content("{}", "application/json");
  });
  FakeJob job(json{{"orderId", "A-1"}});

  JobOutcome busy =
      adapter({{"method", "GET"}, {"url", peer.url("/busy")}, {"retryBackoffMs", 500}})(job);
  EXPECT_EQ(busy.kind(), JobOutcome::Kind::kFail);
  EXPECT_FALSE(busy.no_retry());
  EXPECT_EQ(busy.backoff_ms(), 500);
  EXPECT_NE(busy.message().find("503"), std::string::npos) << busy.message();

  JobOutcome as_error =
      adapter({{"method", "GET"}, {"url", peer.url("/gone")}, {"errorCode", "ORDER_UNKNOWN"}})(job);
  EXPECT_EQ(as_error.kind(), JobOutcome::Kind::kError);
  EXPECT_EQ(as_error.error_code(), "ORDER_UNKNOWN");
  EXPECT_EQ(as_error.variables()["response"]["body"]["error"], "no such order");

  JobOutcome as_incident = adapter({{"method", "GET"}, {"url", peer.url("/gone")}})(job);
  EXPECT_EQ(as_incident.kind(), JobOutcome::Kind::kFail);
  EXPECT_TRUE(as_incident.no_retry());
  EXPECT_NE(as_incident.message().find("404"), std::string::npos);

  JobOutcome garbled = adapter({{"method", "GET"}, {"url", peer.url("/garbled")}})(job);
  EXPECT_TRUE(garbled.no_retry());
  EXPECT_NE(garbled.message().find("<html>Bad gateway"), std::string::npos) << garbled.message();

  JobOutcome slow =
      adapter({{"method", "GET"}, {"url", peer.url("/slow")}, {"timeoutMs", 100}})(job);
  EXPECT_EQ(slow.kind(), JobOutcome::Kind::kFail);
  EXPECT_FALSE(slow.no_retry());
  EXPECT_NE(slow.message().find("no answer within 100 ms"), std::string::npos) << slow.message();
}

TEST(HttpAdapter, AClosedPortIsARetryableFailure) {
  int port = 0;
  {
    Peer closed;  // bound, then stopped: nothing listens there any more
    port = std::stoi(closed.url("").substr(std::string("http://127.0.0.1:").size()));
  }
  FakeJob job(json::object());
  JobOutcome out = adapter({{"url", "http://127.0.0.1:" + std::to_string(port) + "/x"}})(job);
  EXPECT_EQ(out.kind(), JobOutcome::Kind::kFail);
  EXPECT_FALSE(out.no_retry());
}

TEST(RedactUrl, HidesCredentialsAndSecretLookingParameters) {
  using adapters::redact_url;
  EXPECT_EQ(redact_url("https://shop:hunter2@erp.example/orders?id=7"),
            "https://***@erp.example/orders?id=7");
  EXPECT_EQ(redact_url("https://erp.example/x?api_key=S3&order=A-1&Token=T&sig=abc#frag"),
            "https://erp.example/x?api_key=***&order=A-1&Token=***&sig=***#frag");
  EXPECT_EQ(redact_url("http://127.0.0.1:8080/path/with@sign"), "http://127.0.0.1:8080/path/with@sign");
  EXPECT_EQ(redact_url("smtp://mailer:pw@smtp.example:587"), "smtp://***@smtp.example:587");
  EXPECT_EQ(redact_url("https://erp.example/x?password="), "https://erp.example/x?password=");
  EXPECT_EQ(redact_url("https://erp.example/cb#access_token=T1&state=s"),
            "https://erp.example/cb#access_token=***&state=s");
  EXPECT_EQ(redact_url("https://erp.example/x?a=1;apikey=K;b=2"),
            "https://erp.example/x?a=1;apikey=***;b=2");
}

// A URL's credentials and keys never reach what a job's failure says (which becomes the
// job's error, an incident, a log line and GET /v1/jobs).
TEST(HttpAdapter, AFailureNeverShowsTheUrlsSecrets) {
  int port = 0;
  {
    Peer closed;
    port = std::stoi(closed.url("").substr(std::string("http://127.0.0.1:").size()));
  }
  FakeJob job(json::object());
  JobOutcome out = adapter({{"url", "http://shop:hunter2@127.0.0.1:" + std::to_string(port) +
                                        "/x?api_key=S3CRET&order=A-1"}})(job);
  EXPECT_EQ(out.kind(), JobOutcome::Kind::kFail);
  EXPECT_EQ(out.message().find("hunter2"), std::string::npos) << out.message();
  EXPECT_EQ(out.message().find("S3CRET"), std::string::npos) << out.message();
  EXPECT_NE(out.message().find("http://***@127.0.0.1"), std::string::npos) << out.message();
  EXPECT_NE(out.message().find("order=A-1"), std::string::npos) << out.message();
}

// A URL built from variables reaches the web only: file:// (or any other scheme) is refused,
// and nothing of the file comes back.
TEST(HttpAdapter, OnlyHttpAndHttpsUrlsAreFetched) {
  TempDir dir("http-adapter-file");
  const std::string secret = dir.path("secret.json");
  std::ofstream(secret) << R"({"card": "4111111111111111"})";
  FakeJob job(json{{"target", "file://" + secret}});
  JobOutcome out = adapter({{"method", "GET"}, {"url", "=target"}})(job);
  EXPECT_NE(out.kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(out.message().find("4111"), std::string::npos) << out.message();
  EXPECT_NE(out.message().find("only http:// and https://"), std::string::npos) << out.message();
}

// In an engine: the same idempotency key on every retry, variables mapped into the instance.
TEST(HttpAdapter, RetriesCarryTheSameKeyAndTheAnswerReachesTheInstance) {
  Peer peer;
  std::atomic<int> calls{0};
  peer.server().Post("/charge", [&](const httplib::Request& req, httplib::Response& res) {
    peer.record(req);
    if (++calls < 3) {
      res.status = 502;
      return;
    }
    res.set_content(R"({"paymentId":"PAY-9","status":"captured"})", "application/json");
  });
  EngineOptions o;
  o.clock = std::make_shared<VirtualClock>(1'796'119'200'000);
  o.retry_backoff_ms = 0;
  Engine engine(o);
  LoadResult r = load_bpmn(
      process("<startEvent id=\"s\"/><serviceTask id=\"charge\"><extensionElements>"
              "<zeebe:taskDefinition type=\"payment.charge\"/></extensionElements></serviceTask>"
              "<endEvent id=\"e\"/><sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"charge\"/>"
              "<sequenceFlow id=\"f2\" sourceRef=\"charge\" targetRef=\"e\"/>"));
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_TRUE(engine.deploy(r.document).is_ok());
  engine.register_handler("payment.charge",
                          adapter({{"url", peer.url("/charge")}, {"body", "={amount: total}"}}));
  auto id = engine.start("p", {{"total", 49.9}}, "A-1");
  ASSERT_TRUE(id.is_ok());
  must(engine.run_until_idle());
  auto info = engine.instance(id->id);
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->state, InstanceState::kCompleted);
  EXPECT_EQ(info->variables["paymentId"], "PAY-9");
  auto seen = peer.seen();
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& s : seen) {
    EXPECT_EQ(s.idempotency_key, seen[0].idempotency_key);
    EXPECT_EQ(json::parse(s.body), json({{"amount", 49.9}}));
  }
  EXPECT_FALSE(seen[0].idempotency_key.empty());
}

}  // namespace
}  // namespace ordo::testing

namespace ordo::testing {
namespace {

Environment fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name, std::string& value) {
    auto it = vars.find(name);
    if (it == vars.end()) return false;
    value = it->second;
    return true;
  };
}

std::string config_error(const std::string& text) {
  auto c = parse_adapter_config(text, "ordo.json", fake_env({}));
  EXPECT_FALSE(c.is_ok()) << text;
  return c.is_ok() ? std::string() : c.status().message();
}

TEST(AdapterConfig, MistakesAreErrorsNamingTheKey) {
  EXPECT_NE(config_error("{\"adapters\": {\n  \"erp.check\": {\"adapter\": \"http\",}\n}}")
                .find("ordo.json:2:"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"adaptors": {}})").find("adaptors"), std::string::npos);
  EXPECT_NE(config_error(R"({"adapters": {"erp.check": {"url": "http://x"}}})")
                .find("adapters.erp.check.adapter"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"adapters": {"erp.check": {"adapter": "soap"}}})")
                .find("unknown adapter 'soap'"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"adapters": {"erp.check": {"adapter": "http"}}})")
                .find("adapters.erp.check.url"),
            std::string::npos);
  const std::string unset = config_error(
      R"({"adapters": {"payment.charge": {"adapter": "http", "url": "http://psp",
          "headers": {"Authorization": "Bearer ${env:PSP_TOKEN}"}}}})");
  EXPECT_NE(unset.find("adapters.payment.charge.headers.Authorization"), std::string::npos)
      << unset;
  EXPECT_NE(unset.find("PSP_TOKEN is not set"), std::string::npos) << unset;
}

TEST(AdapterConfig, SecretsComeFromTheEnvironmentAndHandlersDoTheWork) {
  Peer peer;
  peer.server().Post("/check", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "Bearer s3cret") {
      res.status = 401;
      return;
    }
    res.set_content(R"({"available": true})", "application/json");
  });
  const std::string text = R"({"adapters": {
      "erp.check": {"adapter": "http", "url": ")" +
                           peer.url("/check") + R"(",
                    "headers": {"Authorization": "Bearer ${env:ERP_TOKEN}"}},
      "notify.send": {"adapter": "simulated"},
      "payment.charge": {"adapter": "external"}}})";
  auto config = parse_adapter_config(text, "ordo.json", fake_env({{"ERP_TOKEN", "s3cret"}}));
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->simulated, std::vector<std::string>{"notify.send"});
  EXPECT_EQ(config->external, std::vector<std::string>{"payment.charge"});
  EXPECT_EQ(config->handlers.count("payment.charge"), 0u);
  auto with_url = parse_adapter_config(
      R"({"adapters": {"payment.charge": {"adapter": "external", "url": "http://x"}}})",
      "ordo.json");
  EXPECT_EQ(with_url.status().message(),
            "ordo.json: adapters.payment.charge: the external adapter has no settings");
  ASSERT_EQ(config->handlers.count("erp.check"), 1u);
  FakeJob job(json{{"orderId", "A-1"}});
  JobOutcome out = config->handlers.at("erp.check")(job);
  ASSERT_EQ(out.kind(), JobOutcome::Kind::kComplete) << out.message();
  EXPECT_EQ(out.variables()["available"], true);
}

}  // namespace
}  // namespace ordo::testing

namespace ordo::testing {
namespace {

TEST(WebhookSignature, MatchesHmacSha256AndRefusesAnythingElse) {
  // RFC 4231, test case 2.
  const std::string known = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  EXPECT_EQ(webhook_signature("what do ya want for nothing?", "Jefe"), "sha256=" + known);
  EXPECT_TRUE(verify_webhook_signature("what do ya want for nothing?", "Jefe", known));
  EXPECT_TRUE(verify_webhook_signature("what do ya want for nothing?", "Jefe", "sha256=" + known));
  std::string upper = known;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(verify_webhook_signature("what do ya want for nothing?", "Jefe", upper));

  const std::string body = R"({"orderId":"A-1","status":"captured"})";
  const std::string good = webhook_signature(body, "whsec_1");
  EXPECT_TRUE(verify_webhook_signature(body, "whsec_1", good));
  EXPECT_FALSE(verify_webhook_signature(R"({"orderId":"A-1","status":"failed"})", "whsec_1", good));
  EXPECT_FALSE(verify_webhook_signature(body, "whsec_2", good));
  EXPECT_FALSE(verify_webhook_signature(body, "", webhook_signature(body, "")));
  EXPECT_FALSE(verify_webhook_signature(body, "whsec_1", ""));
  EXPECT_FALSE(verify_webhook_signature(body, "whsec_1", good.substr(0, good.size() - 2)));
  EXPECT_FALSE(verify_webhook_signature(body, "whsec_1", "sha256=not-hex-at-all"));
}

}  // namespace
}  // namespace ordo::testing
