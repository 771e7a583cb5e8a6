// The Notifier against real protocol peers on loopback: a real SMTP server (aiosmtpd), an
// SMS gateway and a push service (cpp-httplib) that can misbehave, and a CRM.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "adapters/fake_job.h"
#include "ordo/adapters/adapters.h"
#include "ordo/adapters/notifications.h"
#include "peers/http_peer.h"
#include "peers/fcm_peer.h"
#include "peers/twilio_peer.h"
#include "api.h"
#include "peers/smtp_sink.h"
#include "test_util.h"
#include "store/pg_server.h"

namespace ordo::testing {
namespace {

using nlohmann::json;

// 2026-12-01T10:00:00Z: 11:00 in Berlin.
constexpr std::int64_t kMorning = 1'796'119'200'000;

json customer() {
  return {{"id", "C-1"},
          {"name", "Jörg Müller"},
          {"lastName", "Müller"},
          {"salutation", "mr"},
          {"email", "joerg.mueller@example.de"},
          {"phone", "+49 151 2345 6789"},
          {"locale", "de-DE"},
          {"timeZone", "Europe/Berlin"}};
}

json order_vars(json c = customer()) {
  return {{"orderId", "A-1001"},
          {"customer", std::move(c)},
          {"items",
           {{{"sku", "SKU-1"},
             {"name", "Łódź-Kaffeemühle «Пётр»"},
             {"quantity", 1},
             {"unitPrice", 89.9}}}},
          {"total", 89.9},
          {"currency", "EUR"},
          {"trackingNumber", "0034043416"},
          {"carrier", "DHL"},
          {"trackingUrl", "https://track.example/0034043416"}};
}

FakeJob notify_job(json vars, const char* message, const char* channel = "email") {
  FakeJob job(std::move(vars));
  job.with_header("template", message).with_header("channel", channel).business("A-1001");
  job.keyed("order:3:notify").at(kMorning);
  return job;
}

// Every test twice: the delivery log in an SQLite file, and in PostgreSQL (a schema of the
// test's own on the test server), where several nodes share it.
class NotifierTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = scratch_.dir();
    if (GetParam()) {
      std::string why;
      log_ = pg_test_schema_url("notify", why);
      ASSERT_FALSE(log_.empty()) << why;
    } else {
      log_ = dir_ + "/deliveries.db";
    }
    sms_.server().Post("/sms", [this](const httplib::Request& req, httplib::Response& res) {
      sms_.record(req);
      const int n = ++sms_calls_;
      if (n <= sms_failures_) {
        res.status = sms_failure_status_;
        res.set_content(R"({"error": "gateway busy"})", "application/json");
        return;
      }
      res.set_content(json{{"id", "sms-" + req.get_header_value("Idempotency-Key")}}.dump(),
                      "application/json");
    });
    push_.server().Post("/push", [this](const httplib::Request& req, httplib::Response& res) {
      push_.record(req);
      res.set_content(json{{"id", "push-" + std::to_string(push_.seen().size())}}.dump(),
                      "application/json");
    });
  }

  json settings(const std::string& smtp_url, json extra = json::object()) {
    json s = {{"templates", ORDO_SOURCE_DIR "/processes/templates"},
              {"deliveryLog", log_},
              {"shop",
               {{"name", "Ordo Shop"},
                {"url", "https://shop.example"},
                {"supportEmail", "help@shop.example"}}},
              {"timeZone", "Europe/Berlin"},
              {"channels",
               {{"email",
                 {{"url", smtp_url},
                  {"from", "shop@shop.example"},
                  {"fromName", "Ordo Shop – Kundenservice"},
                  {"timeoutMs", 5000}}},
                {"sms",
                 {{"url", sms_.url("/sms")},
                  {"from", "OrdoShop"},
                  {"timeoutMs", 2000},
                  {"quietHours", {{"from", "21:00"}, {"to", "08:00"}}}}},
                {"push", {{"url", push_.url("/push")}}}}},
              {"rules",
               {{"order-shipped", {"sms", "email"}},
                {"order-delivered", {"sms", "push", "email"}},
                {"order-confirmation", {"email"}}}}};
    s.update(extra);
    return s;
  }

  std::shared_ptr<Notifier> make(const json& s) {
    auto n = Notifier::create(s, "");
    EXPECT_TRUE(n.is_ok()) << n.status().to_string();
    return n.is_ok() ? *n : nullptr;
  }

  std::vector<DeliveryRecord> log(Notifier& n) {
    auto r = n.deliveries("A-1001");
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : std::vector<DeliveryRecord>{};
  }

  TempDir scratch_{"notify"};
  std::string dir_;
  std::string log_;  // notifications.deliveryLog
  HttpPeer sms_, push_;
  std::atomic<int> sms_calls_{0};
  int sms_failures_ = 0;
  int sms_failure_status_ = 503;
};

#define REQUIRE_SMTP(sink)                                                             \
  if ((sink).port() == 0) {                                                            \
    GTEST_SKIP() << "no SMTP server: install python3-aiosmtpd (scripts/install-deps)"; \
  }

TEST_P(NotifierTest, EmailArrivesOverSmtpInTheCustomersLanguageWithCorrectHeaders) {
  SmtpSink smtp(dir_ + "/mail.jsonl");
  REQUIRE_SMTP(smtp);
  auto n = make(settings(smtp.url()));
  ASSERT_TRUE(n);
  FakeJob job = notify_job(order_vars(), "order-confirmation");
  EXPECT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  const auto mail = smtp.mail();
  ASSERT_EQ(mail.size(), 1u);
  const json& m = mail[0];
  EXPECT_EQ(m["mail_from"], "shop@shop.example");
  EXPECT_EQ(m["rcpt_tos"], json::array({"joerg.mueller@example.de"}));
  EXPECT_EQ(m["to"], "Jörg Müller <joerg.mueller@example.de>");
  EXPECT_EQ(m["from"], "Ordo Shop – Kundenservice <shop@shop.example>");
  EXPECT_EQ(m["subject"].get<std::string>().find("A-1001") != std::string::npos, true)
      << m["subject"];
  EXPECT_EQ(m["mime_version"], "1.0");
  EXPECT_EQ(m["content_type"], "multipart/alternative");
  EXPECT_EQ(m["content_language"], "de");
  EXPECT_EQ(m["text_charset"], "utf-8");
  EXPECT_TRUE(m["raw_ascii"].get<bool>()) << "8-bit text must be encoded for the wire";
  const std::string text = m["text"];
  EXPECT_NE(text.find("Sehr geehrter Herr Müller,"), std::string::npos) << text;
  EXPECT_NE(text.find("Łódź-Kaffeemühle «Пётр»"), std::string::npos) << text;
  EXPECT_NE(text.find("89,90 €"), std::string::npos);
  const std::string html = m["html"];
  EXPECT_NE(html.find("Łódź-Kaffeemühle «Пётр»"), std::string::npos);
  EXPECT_NE(html.find("<html"), std::string::npos);
  const auto entries = log(*n);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].status, "sent");
  EXPECT_EQ(entries[0].channel, "email");
  EXPECT_EQ(entries[0].locale, "de");
  EXPECT_EQ(entries[0].provider_id, m["message_id"]);
  const std::string id = m["message_id"];
  EXPECT_EQ(id.rfind("<ordo.order-confirmation.A-1001.email.", 0), 0u) << id;
  EXPECT_EQ(id.find(".."), std::string::npos) << id;
}

TEST_P(NotifierTest, PolishAndRussianSubjectsSurviveTheWire) {
  SmtpSink smtp(dir_ + "/mail.jsonl");
  REQUIRE_SMTP(smtp);
  auto n = make(settings(smtp.url()));
  ASSERT_TRUE(n);
  json pl = customer();
  pl["locale"] = "pl";
  pl["name"] = "Zażółć Gęślą";
  pl["salutation"] = nullptr;
  FakeJob a = notify_job(order_vars(pl), "payment-failed");
  ASSERT_EQ(n->handle(a).kind(), JobOutcome::Kind::kComplete);
  json ru = customer();
  ru["locale"] = "ru";
  ru["email"] = "ivan@example.ru";
  FakeJob b = notify_job(order_vars(ru), "order-unavailable");
  b.business("A-2002");
  ASSERT_EQ(n->handle(b).kind(), JobOutcome::Kind::kComplete);
  const auto mail = smtp.mail();
  ASSERT_EQ(mail.size(), 2u);
  auto rendered_pl = n->templates().render("payment-failed", "email", "pl",
                                           n->templates().view(order_vars(pl), "A-1001", "pl", {}));
  ASSERT_OK(rendered_pl.status());
  EXPECT_EQ(mail[0]["subject"], rendered_pl->subject);
  EXPECT_EQ(mail[0]["to"], "Zażółć Gęślą <joerg.mueller@example.de>");
  auto rendered_ru = n->templates().render("order-unavailable", "email", "ru",
                                           n->templates().view(order_vars(ru), "A-2002", "ru", {}));
  ASSERT_OK(rendered_ru.status());
  EXPECT_EQ(mail[1]["subject"], rendered_ru->subject);
  EXPECT_NE(mail[1]["text"].get<std::string>().find("Уважаемый"), std::string::npos);
}

TEST_P(NotifierTest, TheSameMessageForTheSameOrderIsSentOnce) {
  SmtpSink smtp(dir_ + "/mail.jsonl");
  REQUIRE_SMTP(smtp);
  auto n = make(settings(smtp.url()));
  ASSERT_TRUE(n);
  FakeJob job = notify_job(order_vars(), "order-confirmation");
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  // The same job again (a retry after a crash), and another element sending the same
  // message for the same order: neither sends.
  FakeJob again = notify_job(order_vars(), "order-confirmation");
  again.with_attempt(2);
  EXPECT_EQ(n->handle(again).kind(), JobOutcome::Kind::kComplete);
  FakeJob other = notify_job(order_vars(), "order-confirmation");
  other.keyed("order:3:another-element");
  EXPECT_EQ(n->handle(other).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(smtp.mail().size(), 1u);
  // A new Notifier on the same log (a restarted worker) knows it too.
  n.reset();
  auto restarted = make(settings(smtp.url()));
  EXPECT_EQ(restarted->handle(job).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(smtp.mail().size(), 1u);
  const auto entries = log(*restarted);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].status, "sent");
  for (std::size_t i = 1; i < entries.size(); ++i) EXPECT_EQ(entries[i].status, "duplicate");
}

// Two workers (two machines, or two processes on one) on one delivery log, sixteen threads
// sending a customer sixteen different texts at once: the hourly cap of three holds across
// all of them, since each reservation takes its turn per customer.
TEST_P(NotifierTest, WorkersSharingTheLogKeepTheCustomersHourlyCapBetweenThem) {
  const json s = settings("smtp://127.0.0.1:1",
                          {{"capPerHour", 3}, {"rules", {{"order-shipped", {"sms"}}}}});
  auto first = make(s);
  auto second = make(s);
  ASSERT_TRUE(first && second);
  std::atomic<int> sent{0}, deferred{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      json vars = order_vars();
      const std::string order = "A-" + std::to_string(2000 + i);
      vars["orderId"] = order;
      FakeJob job = notify_job(vars, "order-shipped", "sms");
      job.business(order).keyed("order:" + std::to_string(i) + ":notify");
      const JobOutcome o = (i % 2 == 0 ? first : second)->handle(job);
      if (o.kind() == JobOutcome::Kind::kComplete) {
        ++sent;
      } else if (o.kind() == JobOutcome::Kind::kDefer) {
        ++deferred;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sent.load(), 3);
  EXPECT_EQ(deferred.load(), 13);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(sms_.seen().size(), 3u);
}

TEST_P(NotifierTest, SmsGoesThroughTheGatewayWithAnIdempotencyKeyAndE164Number) {
  auto n = make(settings("smtp://127.0.0.1:1"));
  ASSERT_TRUE(n);
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  const auto seen = sms_.seen();
  ASSERT_EQ(seen.size(), 1u);
  const json body = json::parse(seen[0].body);
  EXPECT_EQ(body["to"], "+4915123456789");
  EXPECT_EQ(body["from"], "OrdoShop");
  EXPECT_NE(body["text"].get<std::string>().find("https://track.example/0034043416"),
            std::string::npos);
  EXPECT_EQ(seen[0].idempotency_key, "order-shipped:A-1001:sms");
  const auto entries = log(*n);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].provider_id, "sms-order-shipped:A-1001:sms");
  EXPECT_EQ(entries[0].recipient, "+4915123456789");
}

TEST_P(NotifierTest, AnInvalidNumberIsNotTextedTheReasonIsRecordedAndEmailIsUsed) {
  SmtpSink smtp(dir_ + "/mail.jsonl");
  REQUIRE_SMTP(smtp);
  auto n = make(settings(smtp.url()));
  json c = customer();
  c["phone"] = "0151 2345678";  // national format
  FakeJob job = notify_job(order_vars(c), "order-shipped", "sms");
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  EXPECT_TRUE(sms_.seen().empty());
  EXPECT_EQ(smtp.mail().size(), 1u);
  // No channel at all: nothing is sent, the process goes on, the log says why.
  json none = customer();
  none["phone"] = 4915123456789;
  none.erase("email");
  FakeJob nothing = notify_job(order_vars(none), "order-delivered", "sms");
  nothing.business("A-1001");
  nothing.with_header("x", "y");
  ASSERT_EQ(n->handle(nothing).kind(), JobOutcome::Kind::kComplete);
  const auto entries = log(*n);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].status, "skipped");
  EXPECT_NE(entries[1].error.find("JSON number"), std::string::npos) << entries[1].error;
  EXPECT_NE(entries[1].error.find("no email address"), std::string::npos) << entries[1].error;
}

TEST_P(NotifierTest, PreferencesAndOptOutsAreRespected) {
  auto n = make(settings("smtp://127.0.0.1:1"));
  json c = customer();
  c["preferredChannel"] = "push";
  c["pushToken"] = "device-42";
  FakeJob job = notify_job(order_vars(c), "order-delivered", "sms");
  JobOutcome o = n->handle(job);
  ASSERT_EQ(o.kind(), JobOutcome::Kind::kComplete) << o.message();
  EXPECT_EQ(push_.seen().size(), 1u) << "the preferred channel, allowed by the rule";
  EXPECT_TRUE(sms_.seen().empty());
  const json body = json::parse(push_.seen()[0].body);
  EXPECT_EQ(body["to"], "device-42");
  EXPECT_FALSE(body["title"].get<std::string>().empty());

  json out = customer();
  out["optOut"] = json::array({"sms"});
  out["pushToken"] = "device-43";
  FakeJob shipped = notify_job(order_vars(out), "order-delivered", "sms");
  shipped.business("A-1002");
  ASSERT_EQ(n->handle(shipped).kind(), JobOutcome::Kind::kComplete);
  EXPECT_TRUE(sms_.seen().empty()) << "opted out of SMS";
  EXPECT_EQ(push_.seen().size(), 2u) << "the next channel of the rule";
}

TEST_P(NotifierTest, SmsInQuietHoursWaitsUntilTheWindowOpens) {
  auto n = make(settings("smtp://127.0.0.1:1"));
  // 2026-12-01T21:30:00Z is 22:30 in Berlin; the window opens at 08:00 Berlin = 07:00Z.
  const std::int64_t late = kMorning + 11 * 60 * kMinute + 30 * kMinute;
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  job.at(late);
  JobOutcome o = n->handle(job);
  ASSERT_EQ(o.kind(), JobOutcome::Kind::kDefer);
  EXPECT_EQ(o.backoff_ms(), 9 * 60 * kMinute + 30 * kMinute);
  EXPECT_TRUE(sms_.seen().empty());
  // A customer in another zone: 22:30Z is 01:30 in Moscow (UTC+3): also quiet, until 05:00Z.
  json c = customer();
  c["timeZone"] = "Europe/Moscow";
  FakeJob moscow = notify_job(order_vars(c), "order-shipped", "sms");
  moscow.business("A-1002").at(late + 60 * kMinute);
  JobOutcome m = n->handle(moscow);
  ASSERT_EQ(m.kind(), JobOutcome::Kind::kDefer);
  EXPECT_EQ(m.backoff_ms(), 6 * 60 * kMinute + 30 * kMinute);
  // When the window opens, the message goes.
  job.at(late + o.backoff_ms());
  EXPECT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(sms_.seen().size(), 1u);
}

// What no job outcome says goes to the LogFunction handed in, and nowhere without one.
TEST_P(NotifierTest, AnUnknownTimeZoneAndAFailedSendAreReportedThroughTheLogFunction) {
  std::vector<std::pair<LogLevel, std::string>> reported;
  std::mutex mu;
  auto made = Notifier::create(settings("smtp://127.0.0.1:1"), "", "notifications",
                               [&](LogLevel level, std::string_view message) {
                                 std::lock_guard lock(mu);
                                 reported.emplace_back(level, std::string(message));
                               });
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  json c = customer();
  c["timeZone"] = "Mars/Olympus";
  sms_failures_ = 1;
  FakeJob job = notify_job(order_vars(c), "order-shipped", "sms");
  job.with_retries(3).at(kMorning + 3 * 60 * kMinute);  // 13:00 in Berlin: not quiet
  JobOutcome o = (*made)->handle(job);
  EXPECT_EQ(o.kind(), JobOutcome::Kind::kFail) << "the gateway's 503 is retried";
  std::lock_guard lock(mu);
  std::string all;
  for (const auto& [level, message] : reported) {
    EXPECT_EQ(level, LogLevel::kWarning) << message;
    all += message + "\n";
  }
  EXPECT_NE(all.find("customer.timeZone"), std::string::npos) << all;
  EXPECT_NE(all.find("quiet hours use Europe/Berlin"), std::string::npos) << all;
  EXPECT_NE(all.find("notification order-shipped for order A-1001 via sms"), std::string::npos)
      << all;
}

TEST_P(NotifierTest, TheHourlyCapMakesFurtherMessagesWait) {
  auto n = make(settings(
      "smtp://127.0.0.1:1",
      {{"capPerHour", 2},
       {"rules",
        {{"order-shipped", {"sms"}}, {"order-delivered", {"sms"}}, {"payment-failed", {"sms"}}}}}));
  FakeJob a = notify_job(order_vars(), "order-shipped", "sms");
  ASSERT_EQ(n->handle(a).kind(), JobOutcome::Kind::kComplete);
  FakeJob b = notify_job(order_vars(), "order-delivered", "sms");
  b.at(kMorning + 10 * kMinute);
  ASSERT_EQ(n->handle(b).kind(), JobOutcome::Kind::kComplete);
  FakeJob c = notify_job(order_vars(), "payment-failed", "sms");
  c.at(kMorning + 20 * kMinute);
  JobOutcome o = n->handle(c);
  ASSERT_EQ(o.kind(), JobOutcome::Kind::kDefer);
  EXPECT_EQ(o.backoff_ms(), 40 * kMinute) << "until the first leaves the hour";
  c.at(kMorning + 60 * kMinute + 1);
  EXPECT_EQ(n->handle(c).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(sms_.seen().size(), 3u);
}

TEST_P(NotifierTest, AMessageAnotherNodeRecordedAheadCountsTowardsTheCapButNotInARehearsal) {
  const json s = settings("smtp://127.0.0.1:1",
                          {{"capPerHour", 1},
                           {"rules", {{"order-shipped", {"sms"}}, {"order-delivered", {"sms"}}}}});
  // A node whose clock is half an hour ahead sent one; this node's clock is behind.
  auto n = make(s);
  FakeJob ahead = notify_job(order_vars(), "order-shipped", "sms");
  ahead.at(kMorning + 30 * kMinute);
  ASSERT_EQ(n->handle(ahead).kind(), JobOutcome::Kind::kComplete);
  FakeJob behind = notify_job(order_vars(), "order-delivered", "sms");
  behind.at(kMorning);
  EXPECT_EQ(n->handle(behind).kind(), JobOutcome::Kind::kDefer) << "it was sent: it counts";
  EXPECT_EQ(sms_.seen().size(), 1u);

  // A replay follows a customer's orders one after another: an earlier order's message at
  // 10:30 is no reason to hold back a later order's at 10:00. Nothing reaches the gateway.
  Result<std::shared_ptr<Notifier>> rehearsal = Notifier::rehearsal(s, "");
  ASSERT_OK(rehearsal);
  ASSERT_EQ((*rehearsal)->handle(ahead).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ((*rehearsal)->handle(behind).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(sms_.seen().size(), 1u);
  Result<std::vector<DeliveryRecord>> sent = (*rehearsal)->deliveries();
  ASSERT_OK(sent);
  ASSERT_EQ(sent->size(), 2u);
  EXPECT_EQ((*sent)[1].status, "sent");
  // Forgetting an order is a rehearsal's only.
  ASSERT_OK((*rehearsal)->forget_order(order_vars()["orderId"].get<std::string>()));
  EXPECT_TRUE((*rehearsal)->deliveries()->empty());
  EXPECT_FALSE(n->forget_order("A-1").is_ok());
}

TEST_P(NotifierTest, FailuresAreRetriedThenTheFallbackChannelThenAnIncident) {
  SmtpSink smtp(dir_ + "/mail.jsonl", {"--reject", "joerg"});
  REQUIRE_SMTP(smtp);
  auto n = make(settings(smtp.url()));
  sms_failures_ = 100;
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  job.with_retries(3);
  JobOutcome first = n->handle(job);
  ASSERT_EQ(first.kind(), JobOutcome::Kind::kFail) << "a 503 is retried";
  EXPECT_FALSE(first.no_retry());
  EXPECT_NE(first.message().find("503"), std::string::npos);
  job.with_retries(1).with_attempt(3);
  JobOutcome last = n->handle(job);
  ASSERT_EQ(last.kind(), JobOutcome::Kind::kFail);
  EXPECT_TRUE(last.no_retry()) << "both channels failed: an incident";
  EXPECT_NE(last.message().find("503"), std::string::npos) << last.message();
  EXPECT_NE(last.message().find("550"), std::string::npos) << last.message();
  EXPECT_EQ(sms_.seen().size(), 2u);
  const auto entries = log(*n);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].status, "failed");
  EXPECT_EQ(entries[1].status, "failed");
  EXPECT_EQ(entries[2].status, "rejected");
  EXPECT_EQ(entries[2].channel, "email");
  EXPECT_TRUE(smtp.mail().empty());
}

TEST_P(NotifierTest, OnTheLastRetryTheFallbackChannelDelivers) {
  SmtpSink smtp(dir_ + "/mail.jsonl", {"--fail-first", "1"});
  REQUIRE_SMTP(smtp);
  auto n = make(settings(smtp.url()));
  sms_failures_ = 100;
  sms_failure_status_ = 400;  // refused for good: straight to the fallback
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  JobOutcome o = n->handle(job);
  ASSERT_EQ(o.kind(), JobOutcome::Kind::kFail) << "the email got a 451: retried later";
  EXPECT_FALSE(o.no_retry());
  job.with_attempt(2);
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(sms_.seen().size(), 1u) << "a channel refused for good is not tried again";
  ASSERT_EQ(smtp.mail().size(), 1u);
  EXPECT_NE(smtp.mail()[0]["text"].get<std::string>().find("0034043416"), std::string::npos);
}

TEST_P(NotifierTest, ASlowOrGarbledGatewayIsRetriedUnderTheSameKey) {
  HttpPeer slow;
  std::atomic<int> calls{0};
  slow.server().Post("/sms", [&](const httplib::Request& req, httplib::Response& res) {
    slow.record(req);
    const int n = ++calls;
    if (n == 1) std::this_thread::sleep_for(std::chrono::milliseconds(600));  // past timeoutMs
    if (n == 2) {
      res.set_content("<html>Bad Gateway</html>", "text/html");  // 200, but no id
      return;
    }
    res.set_content(R"({"id": "sms-77"})", "application/json");
  });
  json s = settings("smtp://127.0.0.1:1");
  s["channels"]["sms"]["url"] = slow.url("/sms");
  s["channels"]["sms"]["timeoutMs"] = 200;
  auto n = make(s);
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  JobOutcome timed_out = n->handle(job);
  ASSERT_EQ(timed_out.kind(), JobOutcome::Kind::kFail);
  EXPECT_NE(timed_out.message().find("no answer within 200 ms"), std::string::npos)
      << timed_out.message();
  job.with_attempt(2);
  JobOutcome garbled = n->handle(job);
  ASSERT_EQ(garbled.kind(), JobOutcome::Kind::kFail);
  EXPECT_NE(garbled.message().find("without a message id"), std::string::npos);
  job.with_attempt(3);
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  const auto seen = slow.seen();
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& r : seen) EXPECT_EQ(r.idempotency_key, "order-shipped:A-1001:sms");
  const auto entries = log(*n);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].status, "sent");
  EXPECT_EQ(entries[2].provider_id, "sms-77");
}

TEST_P(NotifierTest, AfterAnIncidentIsRetriedEveryChannelGetsAnotherChance) {
  SmtpSink smtp(dir_ + "/mail.jsonl", {"--reject", "joerg"});
  REQUIRE_SMTP(smtp);
  auto n = make(settings(smtp.url()));
  sms_failures_ = 1;
  sms_failure_status_ = 422;  // the gateway refuses the number
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  JobOutcome refused = n->handle(job);
  ASSERT_EQ(refused.kind(), JobOutcome::Kind::kFail);
  EXPECT_TRUE(refused.no_retry()) << "both refused for good: an incident";
  // Operations fixed the data at the gateway and retried the incident.
  job.with_attempt(4);
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(sms_.seen().size(), 2u);
}

TEST_P(NotifierTest, AMessageSentBeforeIsNotHeldBackByQuietHours) {
  auto n = make(settings("smtp://127.0.0.1:1"));
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  // Handed out again (the worker died before completing it), now at 22:30 in Berlin.
  job.at(kMorning + 11 * 60 * kMinute + 30 * kMinute);
  EXPECT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(sms_.seen().size(), 1u);
}

TEST_P(NotifierTest, AFailedForwardToTheCrmIsRetriedByTheNextCallback) {
  HttpPeer crm;
  std::atomic<int> calls{0};
  crm.server().Post("/events", [&](const httplib::Request& req, httplib::Response& res) {
    crm.record(req);
    res.status = ++calls == 1 ? 503 : 204;
  });
  auto n = make(settings("smtp://127.0.0.1:1", {{"statusForward", {{"url", crm.url("/events")}}}}));
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  const std::string id = "sms-order-shipped:A-1001:sms";
  auto first = n->provider_status({"sms", id, "delivered", kMorning, {}});
  EXPECT_EQ(first.status().code(), StatusCode::kAdapterError);
  auto second = n->provider_status({"sms", id, "delivered", kMorning, {}});
  ASSERT_OK(second.status());
  EXPECT_TRUE(*second) << "forwarded this time";
  auto third = n->provider_status({"sms", id, "delivered", kMorning, {}});
  ASSERT_OK(third.status());
  EXPECT_FALSE(*third);
  EXPECT_EQ(crm.seen().size(), 2u);
}

TEST_P(NotifierTest, AMessageWithoutTemplatesOrATemplateHeaderIsAnIncident) {
  auto n = make(settings("smtp://127.0.0.1:1"));
  FakeJob typo = notify_job(order_vars(), "order-shiped", "sms");
  JobOutcome o = n->handle(typo);
  ASSERT_EQ(o.kind(), JobOutcome::Kind::kFail);
  EXPECT_TRUE(o.no_retry());
  EXPECT_NE(o.message().find("no template for message 'order-shiped'"), std::string::npos)
      << o.message();
  FakeJob none(order_vars());
  JobOutcome missing = n->handle(none);
  ASSERT_EQ(missing.kind(), JobOutcome::Kind::kFail);
  EXPECT_NE(missing.message().find("no 'template' header"), std::string::npos);
  EXPECT_TRUE(sms_.seen().empty());
}

TEST_P(NotifierTest, ProviderCallbacksAreRecordedOnceAndForwardedToTheCrm) {
  HttpPeer crm;
  crm.server().Post("/events", [&](const httplib::Request& req, httplib::Response& res) {
    crm.record(req);
    res.status = 204;
  });
  auto n = make(settings("smtp://127.0.0.1:1", {{"statusForward", {{"url", crm.url("/events")}}}}));
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  const std::string id = "sms-order-shipped:A-1001:sms";
  auto delivered = n->provider_status({"sms", id, "delivered", kMorning + 5000, {}});
  ASSERT_OK(delivered.status());
  EXPECT_TRUE(*delivered);
  auto again = n->provider_status({"sms", id, "delivered", kMorning + 5000, {}});
  ASSERT_OK(again.status());
  EXPECT_FALSE(*again) << "a repeated callback is recorded once";
  // Out of order: "clicked" arrives, then a late "sent" with an earlier time.
  auto clicked = n->provider_status({"sms", id, "clicked", kMorning + 9000, {}});
  ASSERT_OK(clicked.status());
  auto accepted = n->provider_status({"sms", id, "accepted", kMorning + 1000, {}});
  ASSERT_OK(accepted.status());
  EXPECT_EQ(log(*n)[0].provider_status, "clicked");
  const auto seen = crm.seen();
  ASSERT_EQ(seen.size(), 3u);
  const json body = json::parse(seen[0].body);
  EXPECT_EQ(body["orderId"], "A-1001");
  EXPECT_EQ(body["status"], "delivered");
  EXPECT_EQ(body["channel"], "sms");
  EXPECT_EQ(n->provider_status({"sms", "unknown", "delivered", 0, {}}).status().code(),
            StatusCode::kNotFound);
}

// Twilio's own example of X-Twilio-Signature (its security documentation: auth token 12345).
TEST(TwilioSignature, MatchesTwilioDocumentedExample) {
  const std::string body =
      "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&"
      "To=%2B18005551212";
  EXPECT_EQ(twilio_signature("https://mycompany.com/myapp.php?foo=1&bar=2", body, "12345"),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  auto ok = twilio_status_callback("https://mycompany.com/myapp.php?foo=1&bar=2", body,
                                   "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345", 0);
  EXPECT_EQ(ok.status().code(), StatusCode::kInvalidArgument) << "signed, but not a status callback";
  auto wrong_url = twilio_status_callback("http://mycompany.com/myapp.php?foo=1&bar=2", body,
                                          "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345", 0);
  EXPECT_EQ(wrong_url.status().code(), StatusCode::kUnauthenticated);
}

// SMS through Twilio's own API, and its status callbacks through ordo serve's route.
TEST_P(NotifierTest, SmsThroughTwilioAndItsSignedStatusCallbacksInAnyOrder) {
  TwilioPeer twilio;
  const std::string callback = "https://shop.example/v1/webhooks/twilio";
  json s = settings("smtp://127.0.0.1:1");
  s["channels"]["sms"] = {{"provider", "twilio"},
                          {"accountSid", TwilioPeer::kSid},
                          {"authToken", TwilioPeer::kToken},
                          {"from", "+4930123456"},
                          {"statusCallback", callback},
                          {"baseUrl", twilio.base_url()}};
  auto n = make(s);
  ASSERT_TRUE(n);
  twilio.rate_limit(1);
  FakeJob job = notify_job(order_vars(), "order-shipped", "sms");
  JobOutcome limited = n->handle(job);
  ASSERT_EQ(limited.kind(), JobOutcome::Kind::kFail) << limited.message();
  EXPECT_GE(limited.backoff_ms(), 3000) << "Retry-After: 3";
  EXPECT_NE(limited.message().find("error 20429"), std::string::npos) << limited.message();
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  const auto seen = twilio.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].path, std::string("/2010-04-01/Accounts/") + TwilioPeer::kSid + "/Messages.json");
  EXPECT_NE(seen[1].body.find("To=%2B4915123456789"), std::string::npos) << seen[1].body;
  EXPECT_NE(seen[1].body.find("StatusCallback=https%3A%2F%2Fshop.example"), std::string::npos);
  // One attempt per row: the rate-limited one, then the one Twilio took.
  const auto sent = [&] {
    for (const DeliveryRecord& d : log(*n)) {
      if (d.provider_id.starts_with("SM")) return d;
    }
    return DeliveryRecord{};
  };
  EXPECT_EQ(log(*n).size(), 2u);
  const std::string sid = sent().provider_id;
  ASSERT_TRUE(sid.starts_with("SM")) << sid;

  server::ApiOptions options;
  options.notifier = n;
  options.twilio.secret = TwilioPeer::kToken;
  options.twilio.url = callback;
  Engine engine;
  server::Api api(engine, options);
  const auto post = [&](const std::string& status, const std::string& signature = {}) {
    const std::string body = "AccountSid=" + std::string(TwilioPeer::kSid) + "&MessageSid=" + sid +
                             "&MessageStatus=" + status + "&To=%2B4915123456789&ApiVersion=2010-04-01";
    server::Request r;
    r.method = "POST";
    r.path = "/v1/webhooks/twilio";
    r.body = body;
    r.headers["x-twilio-signature"] =
        signature.empty() ? twilio_signature(callback, body, TwilioPeer::kToken) : signature;
    return api.handle(r);
  };
  EXPECT_EQ(post("sent").status, 200);
  server::Response delivered = post("delivered");
  EXPECT_EQ(delivered.status, 200) << delivered.body;
  EXPECT_TRUE(json::parse(delivered.body)["recorded"].get<bool>());
  // Twilio repeats a callback, and a "sent" can come after "delivered".
  EXPECT_FALSE(json::parse(post("delivered").body)["recorded"].get<bool>());
  EXPECT_EQ(post("sent").status, 200);
  EXPECT_EQ(sent().provider_status, "delivered");
  // Forged: refused, nothing recorded.
  server::Response forged = post("failed", "bm90IHRoZSBzaWduYXR1cmU=");
  EXPECT_EQ(forged.status, 401) << forged.body;
  EXPECT_EQ(sent().provider_status, "delivered");

  // An invalid number is refused for good (no retry); the reason is Twilio's.
  json bad = customer();
  bad["phone"] = "+15005550001";
  FakeJob invalid = notify_job(order_vars(bad), "order-delivered", "sms");
  (void)n->handle(invalid);  // falls back to push and email (this test's SMTP is away)
  (void)n->handle(invalid);  // the job again: the SMS is not tried again
  int tried = 0;
  for (const HttpPeer::Seen& r : twilio.seen()) {
    tried += r.body.find("To=%2B15005550001") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(tried, 1) << "a number Twilio refused is refused for good";
  bool recorded = false;
  for (const DeliveryRecord& d : log(*n)) {
    if (d.error.find("21211") != std::string::npos) recorded = true;
  }
  EXPECT_TRUE(recorded) << "Twilio's error 21211 is in the delivery log";
}

// Push through FCM HTTP v1 with a service account: the token fetched once, kept, renewed
// before it expires and after it is revoked; FCM's errors read as FCM sends them.
TEST_P(NotifierTest, PushThroughFcmWithAServiceAccountTokenKeptAndRenewed) {
  FcmPeer google;
  std::ofstream(dir_ + "/service-account.json") << google.key_file().dump(2);
  json s = settings("smtp://127.0.0.1:1");
  s["channels"]["push"] = {{"provider", "fcm"},
                           {"serviceAccountFile", dir_ + "/service-account.json"},
                           {"baseUrl", google.url("")}};
  auto n = make(s);
  ASSERT_TRUE(n);
  const auto push = [&](const std::string& order, const std::string& device) {
    json c = customer();
    c["pushToken"] = device;
    c["preferredChannel"] = "push";
    json vars = order_vars(c);
    vars["orderId"] = order;
    FakeJob job = notify_job(vars, "order-delivered", "push");
    job.keyed("order:" + order + ":push").business(order);
    return n->handle(job);
  };
  const auto sends = [&] {
    int count = 0;
    for (const HttpPeer::Seen& r : google.seen()) count += r.path != "/token" ? 1 : 0;
    return count;
  };
  JobOutcome first = push("P-1", "device-1");
  ASSERT_EQ(first.kind(), JobOutcome::Kind::kComplete) << first.message();
  EXPECT_EQ(push("P-2", "device-1").kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(google.tokens(), 1) << "one token for both";
  const json sent = json::parse(google.seen().back().body);
  EXPECT_EQ(sent["message"]["token"], "device-1");
  EXPECT_EQ(sent["message"]["data"]["orderId"], "P-2");
  EXPECT_FALSE(sent["message"]["notification"]["title"].get<std::string>().empty());
  bool named = false;
  const std::vector<DeliveryRecord> first_order = n->deliveries("P-1").value();
  for (const DeliveryRecord& d : first_order) {
    named = named || d.provider_id.starts_with("projects/shop-project/messages/");
  }
  EXPECT_TRUE(named) << "the delivery log keeps FCM's message name";

  // A token refused (revoked) is dropped; one about to expire is renewed before its next use.
  google.revoke();
  google.expires_in(1);
  JobOutcome revoked = push("P-3", "device-1");
  EXPECT_EQ(revoked.kind(), JobOutcome::Kind::kFail) << "the kept token was revoked: retried";
  EXPECT_NE(revoked.message().find("UNAUTHENTICATED"), std::string::npos) << revoked.message();
  EXPECT_EQ(push("P-3", "device-1").kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(google.tokens(), 2);
  EXPECT_EQ(push("P-4", "device-1").kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(google.tokens(), 3) << "a token with a second left is renewed first";
  google.expires_in(3599);

  // Quota: retried no sooner than Retry-After.
  google.rate_limit(1);
  JobOutcome limited = push("P-5", "device-1");
  ASSERT_EQ(limited.kind(), JobOutcome::Kind::kFail) << limited.message();
  EXPECT_GE(limited.backoff_ms(), 4000);
  EXPECT_NE(limited.message().find("QUOTA_EXCEEDED"), std::string::npos) << limited.message();

  // An app uninstalled: refused for good, not tried again.
  const int before = sends();
  (void)push("P-6", "unregistered-device");
  (void)push("P-6", "unregistered-device");
  EXPECT_EQ(sends() - before, 1);

  // A key file that is not one.
  std::ofstream(dir_ + "/not-a-key.json") << R"({"type": "authorized_user"})";
  s["channels"]["push"]["serviceAccountFile"] = dir_ + "/not-a-key.json";
  auto refused = Notifier::create(s, "");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("is not a service account key file"), std::string::npos)
      << refused.status().message();
}

INSTANTIATE_TEST_SUITE_P(DeliveryLogs, NotifierTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return std::string(param.param ? "Postgres" : "Sqlite");
                         });

TEST(NotificationConfig, MistakesAreErrorsNamingTheSetting) {
  const TempDir scratch("notify-cfg");
  const std::string dir = scratch.dir();
  const json good = {{"templates", ORDO_SOURCE_DIR "/processes/templates"},
                     {"deliveryLog", dir + "/cfg-deliveries.db"},
                     {"channels", {{"sms", {{"url", "http://127.0.0.1:9/sms"}}}}}};
  auto made = Notifier::create(good, "");
  ASSERT_OK(made.status());
  const auto error_of = [&](json patch) {
    json s = good;
    s.merge_patch(patch);
    auto n = Notifier::create(s, "");
    return n.is_ok() ? std::string("(ok)") : n.status().message();
  };
  EXPECT_NE(error_of({{"channels", {{"fax", {{"url", "x"}}}}}}).find("notifications.channels.fax"),
            std::string::npos);
  EXPECT_NE(error_of({{"rules", {{"order-shipped", {"email"}}}}})
                .find("notifications.rules.order-shipped: channel 'email' is not configured"),
            std::string::npos);
  EXPECT_NE(error_of({{"rules", {{"order-lost", {"sms"}}}}}).find("no template order-lost.sms"),
            std::string::npos);
  EXPECT_NE(
      error_of({{"channels", {{"sms", {{"quietHours", {{"from", "25:00"}, {"to", "08:00"}}}}}}}})
          .find("notifications.channels.sms.quietHours.from"),
      std::string::npos);
  EXPECT_NE(error_of({{"timeZone", "Mars/Olympus"}}).find("notifications.timeZone"),
            std::string::npos);
  EXPECT_NE(error_of({{"deliveryLog", nullptr}}).find("notifications.deliveryLog: is missing"),
            std::string::npos);
  EXPECT_NE(error_of({{"channels", {{"sms", {{"url", nullptr}}}}}})
                .find("notifications.channels.sms.url: is missing"),
            std::string::npos);
  EXPECT_NE(error_of({{"channels", {{"email", {{"url", "smtp://x"}}}}}})
                .find("notifications.channels.email.from: is missing"),
            std::string::npos);
  EXPECT_NE(error_of({{"templates", "/nowhere"}}).find("notifications.templates"),
            std::string::npos);
}

TEST(NotificationConfig, OrdoJsonWiresTheNotifyAdapterAndChecksSecrets) {
  const TempDir scratch("ordo-cfg");
  const std::string dir = scratch.dir();
  const std::string text = R"({
    "adapters": {"notify.send": {"adapter": "notify"}},
    "notifications": {
      "templates": ")" ORDO_SOURCE_DIR R"(/processes/templates",
      "deliveryLog": "deliveries.db",
      "channels": {"email": {"url": "smtp://127.0.0.1:2525", "from": "shop@example.com",
                             "password": "${env:SMTP_PASSWORD}"}}
    }
  })";
  const auto env = [](const std::string& name, std::string& value) {
    if (name != "SMTP_PASSWORD") return false;
    value = "s3cret";
    return true;
  };
  auto cfg = parse_adapter_config(text, dir + "/ordo.json", env);
  ASSERT_OK(cfg.status());
  EXPECT_TRUE(cfg->handlers.count("notify.send"));
  ASSERT_TRUE(cfg->notifier);
  EXPECT_TRUE(std::filesystem::exists(dir + "/deliveries.db"))
      << "relative to the configuration file";
  auto unset = parse_adapter_config(text, dir + "/ordo.json",
                                    [](const std::string&, std::string&) { return false; });
  ASSERT_FALSE(unset.is_ok());
  EXPECT_NE(unset.status().message().find("notifications.channels.email.password"),
            std::string::npos)
      << unset.status().message();
  auto orphan = parse_adapter_config(R"({"adapters": {"notify.send": {"adapter": "notify"}}})",
                                     dir + "/ordo.json");
  ASSERT_FALSE(orphan.is_ok());
  EXPECT_NE(orphan.status().message().find("needs a \"notifications\" section"), std::string::npos);
}

}  // namespace
}  // namespace ordo::testing

namespace ordo::testing {
namespace {

// The worked example of docs/notifications.md loads as it is written (its delivery log moved
// to a temporary directory).
TEST(NotificationConfig, TheWorkedExampleInTheDocsLoads) {
  std::ifstream in(ORDO_SOURCE_DIR "/docs/notifications.md");
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  const std::size_t start = text.find("```json\n{\n  \"adapters\"");
  ASSERT_NE(start, std::string::npos);
  const std::size_t end = text.find("```", start + 7);
  std::string example = text.substr(start + 8, end - start - 8);
  const TempDir scratch("notify-docs");
  const std::string log = scratch.path("docs-example-deliveries.db");
  const std::string from = "\"deliveryLog\": \"deliveries.db\"";
  ASSERT_NE(example.find(from), std::string::npos);
  example.replace(example.find(from), from.size(), "\"deliveryLog\": \"" + log + "\"");
  const auto env = [](const std::string&, std::string& value) {
    value = "secret";
    return true;
  };
  auto cfg = parse_adapter_config(example, ORDO_SOURCE_DIR "/ordo.json", env);
  ASSERT_OK(cfg.status());
  EXPECT_TRUE(cfg->notifier);
  EXPECT_TRUE(cfg->handlers.count("notify.send"));
}

}  // namespace
}  // namespace ordo::testing
