// End to end over real HTTP (issue 23): `ordo serve` runs orders whose first task gives the
// customer's segment and whose messages go out over a real SMTP server in A/B variants
// with tracked links; the customer's mail app fetches the pixel and follows a link through
// `ordo serve`, which records each once and forwards it to a CRM on loopback.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "durability/durability_util.h"
#include "e2e/served.h"
#include "ordo/adapters/notifications.h"
#include "peers/http_peer.h"
#include "peers/smtp_sink.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kEngagedProcess = R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="engaged-defs"
    targetNamespace="https://ordo.test/engaged">
  <bpmn:process id="engaged-order" isExecutable="true">
    <bpmn:startEvent id="placed"/>
    <bpmn:sequenceFlow id="f1" sourceRef="placed" targetRef="segment"/>
    <bpmn:serviceTask id="segment" name="Customer segment">
      <bpmn:extensionElements><zeebe:taskDefinition type="customer.segment"/></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="segment" targetRef="confirm"/>
    <bpmn:serviceTask id="confirm" name="Confirm">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="notify.send"/>
        <zeebe:taskHeaders><zeebe:header key="template" value="order-confirmation"/></zeebe:taskHeaders>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="shipped"/>
    <bpmn:serviceTask id="shipped" name="Tell it is shipped">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="notify.send"/>
        <zeebe:taskHeaders><zeebe:header key="template" value="order-shipped"/></zeebe:taskHeaders>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f4" sourceRef="shipped" targetRef="done"/>
    <bpmn:endEvent id="done"/>
  </bpmn:process>
</bpmn:definitions>)";

constexpr const char* kBase = "https://shop.example/ordo";

// The path of the tracking URL of `kind` in `text` ("/t/c/..."), or "".
std::string tracking_path(const std::string& text, const std::string& kind) {
  const std::string prefix = std::string(kBase) + "/t/" + kind + "/";
  const std::size_t at = text.find(prefix);
  if (at == std::string::npos) return {};
  std::size_t end = at + prefix.size();
  while (end < text.size() && text[end] != '"' && text[end] != ' ' && text[end] != '\n' &&
         text[end] != '\r') {
    ++end;
  }
  return text.substr(at + std::string(kBase).size(), end - at - std::string(kBase).size());
}

TEST(EngagementEndToEnd, SegmentsVariantsOpensAndClicksThroughOrdoServe) {
  TempDir dir("e2e-engage");
  SmtpSink smtp(dir.path("mail.jsonl"));
  ASSERT_NE(smtp.port(), 0) << "no SMTP server: install python3-aiosmtpd (scripts/install-deps)";
  HttpPeer crm;
  crm.server().Post("/crm", [&](const httplib::Request& r, httplib::Response& res) {
    crm.record(r);
    res.status = 204;
  });
  const json config = {
      {"adapters",
       {{"customer.segment", {{"adapter", "segments"}}}, {"notify.send", {{"adapter", "notify"}}}}},
      {"notifications",
       {{"templates", ORDO_SOURCE_DIR "/processes/templates"},
        {"deliveryLog", dir.path("deliveries.db")},
        {"shop", {{"name", "Ordo Shop"}, {"url", "https://shop.example"}}},
        {"channels", {{"email", {{"url", smtp.url()}, {"from", "shop@shop.example"}}}}},
        {"rules", {{"order-confirmation", {"email"}}, {"order-shipped", {"email"}}}},
        {"segments", {{"windowDays", 365}, {"activeMinOrders", 2}}},
        {"experiments",
         {{"shipped-copy",
           {{"message", "order-shipped"},
            {"variants", {{"control", "order-shipped"}, {"short", "order-shipped-short"}}}}}}},
        {"tracking",
         {{"baseUrl", kBase},
          {"secret", "e2e-tracking-secret-0123456789"},
          {"linkHosts", {"track.example"}}}},
        {"statusForward", {{"url", crm.url("/crm")}}}}},
      // The API wants a token; the tracking URLs, opened by customers, do not.
      {"server", {{"tokens", {{{"token", "e2e-token-0123456789"}, {"scopes", {"read", "write"}}}}}}}};
  { std::ofstream(dir.path("ordo.json")) << config.dump(2); }
  Served served(dir, {"--db", dir.path("orders.db"), "--config", dir.path("ordo.json")});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  http.set_bearer_token_auth("e2e-token-0123456789");
  // The customer's mail app and browser: no token, and the shop's host name.
  httplib::Client mail_app("127.0.0.1", served.port());
  mail_app.set_default_headers({{"Host", "shop.example"}});
  auto deployed = http.Post("/v1/deployments?name=engaged.bpmn", kEngagedProcess, "application/xml");
  ASSERT_TRUE(deployed);
  ASSERT_EQ(deployed->status, 201) << deployed->body;

  // Twelve customers, three orders each, one after the other.
  constexpr int kCustomers = 12;
  constexpr int kOrdersEach = 3;
  const auto completed = [&] {
    auto list = http.Get("/v1/process-instances?state=completed&limit=1000");
    return list ? json::parse(list->body)["instances"].size() : 0u;
  };
  for (int round = 0; round < kOrdersEach; ++round) {
    for (int c = 0; c < kCustomers; ++c) {
      const std::string id = "E-" + std::to_string(c) + "-" + std::to_string(round);
      const std::string customer = "K-" + std::to_string(c);
      json start = {{"processId", "engaged-order"},
                    {"businessKey", id},
                    {"variables",
                     {{"orderId", id},
                      {"customer",
                       {{"id", customer}, {"name", "Kim Park"}, {"email", customer + "@example.com"}}},
                      {"carrier", "DHL"},
                      {"trackingUrl", "https://track.example/" + id}}}};
      auto r = http.Post("/v1/process-instances", start.dump(), "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 201) << r->body;
    }
    const std::size_t target = static_cast<std::size_t>((round + 1) * kCustomers);
    for (int i = 0; i < 600 && completed() < target; ++i) std::this_thread::sleep_for(50ms);
    ASSERT_EQ(completed(), target) << served.output();
  }

  // Segments as configured: each customer's first order new, the second occasional, the
  // third active; each stored on its instance.
  for (int c = 0; c < kCustomers; ++c) {
    const char* expected[] = {"new", "occasional", "active"};
    for (int round = 0; round < kOrdersEach; ++round) {
      const std::string id = "E-" + std::to_string(c) + "-" + std::to_string(round);
      auto found = http.Get("/v1/process-instances?businessKey=" + id);
      ASSERT_TRUE(found);
      const json instances = json::parse(found->body)["instances"];
      ASSERT_EQ(instances.size(), 1u);
      auto one = http.Get("/v1/process-instances/" + std::to_string(instances[0]["id"].get<int>()));
      ASSERT_TRUE(one);
      EXPECT_EQ(json::parse(one->body)["variables"]["segment"], expected[round]) << one->body;
    }
  }

  // Each customer saw one variant of order-shipped throughout, and the log says which.
  auto log = read_delivery_log(dir.path("deliveries.db"));
  ASSERT_OK(log.status());
  std::map<std::string, std::set<std::string>> variants_of;
  std::set<std::string> seen_variants;
  for (const DeliveryRecord& d : *log) {
    EXPECT_EQ(d.status, "sent") << d.order_id << " " << d.message << ": " << d.error;
    if (d.message != "order-shipped") continue;
    EXPECT_EQ(d.experiment, "shipped-copy");
    variants_of[d.customer].insert(d.variant);
    seen_variants.insert(d.variant);
  }
  ASSERT_EQ(variants_of.size(), static_cast<std::size_t>(kCustomers));
  for (const auto& [customer, variants] : variants_of) {
    EXPECT_EQ(variants.size(), 1u) << customer << " saw more than one variant";
  }
  EXPECT_EQ(seen_variants, (std::set<std::string>{"control", "short"}))
      << "twelve customers split by the hash fall in both";
  const auto mail = smtp.mail();
  ASSERT_EQ(mail.size(), static_cast<std::size_t>(2 * kCustomers * kOrdersEach));

  // One shipped email: its pixel and its tracked link, fetched over HTTP from ordo serve as
  // the customer's mail app and browser would, twice each.
  std::string html;
  for (const json& m : mail) {
    if (m["subject"].get<std::string>().find("E-3-1") != std::string::npos &&
        m["subject"].get<std::string>().find("n its way") != std::string::npos) {
      html = m["html"];
    }
  }
  EXPECT_EQ(html.find("track.example"), std::string::npos) << "every link is tracked";
  const std::string pixel = tracking_path(html, "o");
  const std::string link = tracking_path(html, "c");  // the parcel's, the first link
  ASSERT_FALSE(pixel.empty()) << html;
  ASSERT_FALSE(link.empty()) << html;
  for (int fetch = 0; fetch < 2; ++fetch) {
    auto gif = mail_app.Get(pixel);
    ASSERT_TRUE(gif);
    EXPECT_EQ(gif->status, 200);
    EXPECT_EQ(gif->get_header_value("Content-Type"), "image/gif");
    EXPECT_EQ(gif->body.substr(0, 6), "GIF89a");
    auto go = mail_app.Get(link);
    ASSERT_TRUE(go);
    EXPECT_EQ(go->status, 302);
    EXPECT_EQ(go->get_header_value("Location"), "https://track.example/E-3-1");
  }
  // Recorded once each, forwarded once each.
  std::multiset<std::string> forwarded;
  for (const auto& seen : crm.seen()) {
    const json body = json::parse(seen.body);
    EXPECT_EQ(body["orderId"], "E-3-1");
    forwarded.insert(body["status"].get<std::string>());
  }
  EXPECT_EQ(forwarded, (std::multiset<std::string>{"clicked", "opened"}));

  // A forged or edited URL: refused, nothing recorded or forwarded, no redirect.
  std::string edited = link;
  edited[edited.size() / 2] = edited[edited.size() / 2] == 'x' ? 'y' : 'x';
  auto refused = mail_app.Get(edited);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 404);
  EXPECT_EQ(refused->get_header_value("Location"), "");
  auto forged = mail_app.Get("/t/c/WyJjIiwiYSIsImVtYWlsIiwiaHR0cHM6Ly9ldmlsLmV4YW1wbGUiXQ.AAAAAAAAAAAAAAAAAAAAAA");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 404);
  EXPECT_EQ(crm.seen().size(), 2u);

  // The rates on /metrics, by channel, segment and variant.
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("ordo_notification_open_rate{channel=\"email\",segment=\"occasional\","
                               "experiment=\"shipped-copy\""),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("ordo_notification_engagement{channel=\"email\",segment=\"new\""),
            std::string::npos);
  EXPECT_EQ(served.stop(), 0);

  // The analyst's report: every order reached its end after the message, in both variants.
  const ProcessRun report =
      run_ordo({"deliveries", "--report", "--log", dir.path("deliveries.db"), "--db",
                dir.path("orders.db"), "--outcome", "shipped-copy=done", "--json"});
  ASSERT_EQ(report.exit_code, 0) << report.out;
  const json r = json::parse(report.out);
  ASSERT_EQ(r["experiments"].size(), 1u) << report.out;
  std::int64_t sent = 0;
  for (const json& v : r["experiments"][0]["variants"]) {
    sent += v["all"]["sent"].get<std::int64_t>();
    EXPECT_EQ(v["all"]["converted"]["rate"], 1.0) << v;
    EXPECT_EQ(v["all"]["opened"]["count"], v["variant"] == variants_of["K-3"].begin()->c_str() ? 1 : 0)
        << "the one email opened";
  }
  EXPECT_EQ(sent, kCustomers * kOrdersEach);
  const ProcessRun text =
      run_ordo({"deliveries", "--report", "--log", dir.path("deliveries.db"), "--db",
                dir.path("orders.db"), "--outcome", "shipped-copy=done"});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("experiment shipped-copy (against control, outcome done)"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("short vs control, converted: +0.0 points"), std::string::npos)
      << text.out;
  EXPECT_EQ(run_ordo({"deliveries", "--report", "--log", dir.path("deliveries.db"), "--db",
                      dir.path("orders.db"), "--outcome", "shipped-copy"})
                .exit_code,
            2)
      << "EXPERIMENT=ELEMENT";
  EXPECT_EQ(run_ordo({"deliveries", "--report", "--log", dir.path("deliveries.db"), "--outcome",
                      "shipped-copy=done"})
                .exit_code,
            2)
      << "--outcome needs --db";
}

}  // namespace
}  // namespace ordo::testing
