// Segments, A/B variants and engagement tracking through the Notifier, against real peers on
// loopback (an SMTP server, an SMS gateway, a push service, a CRM), with the delivery log in
// an SQLite file and in PostgreSQL.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "adapters/fake_job.h"
#include "notify/engagement.h"
#include "ordo/adapters/adapters.h"
#include "ordo/adapters/notifications.h"
#include "ordo/engine.h"
#include "ordo/loader.h"
#include "peers/http_peer.h"
#include "peers/smtp_sink.h"
#include "store/pg_server.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;

constexpr std::int64_t kDayOne = 1'796'119'200'000;  // 2026-12-01T10:00:00Z
constexpr std::int64_t kOneDay = 86'400'000;

FakeJob segment_job(const std::string& customer, const std::string& order, std::int64_t at) {
  FakeJob job(json{{"customer", {{"id", customer}}}, {"orderId", order}});
  job.business(order).keyed("segment:" + order).at(at);
  return job;
}

json shipped_vars(const std::string& customer, const std::string& segment) {
  return {{"customer",
           {{"id", customer},
            {"name", "Ann Lee"},
            {"email", customer + "@example.com"},
            {"phone", "+4915123456789"},
            {"pushToken", "tok-" + customer}}},
          {"segment", segment},
          {"carrier", "DHL"},
          {"trackingNumber", "0034043416"},
          {"trackingUrl", "https://track.example/0034043416?lang=en&from=mail"}};
}

FakeJob shipped_job(const std::string& customer, const std::string& order, const std::string& segment,
                    const char* message = "order-shipped") {
  FakeJob job(shipped_vars(customer, segment));
  job.with_header("template", message).with_header("channel", "sms");
  job.business(order).keyed("notify:" + order + ":" + message).at(kDayOne);
  return job;
}

class EngagementTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      std::string why;
      log_ = pg_test_schema_url("engage", why);
      ASSERT_FALSE(log_.empty()) << why;
    } else {
      log_ = scratch_.path("deliveries.db");
    }
    sms_.server().Post("/sms", [this](const httplib::Request& req, httplib::Response& res) {
      sms_.record(req);
      res.set_content(json{{"id", "sms-" + req.get_header_value("Idempotency-Key")}}.dump(),
                      "application/json");
    });
    push_.server().Post("/push", [this](const httplib::Request& req, httplib::Response& res) {
      push_.record(req);
      res.set_content(json{{"id", "push-" + std::to_string(push_.seen().size())}}.dump(),
                      "application/json");
    });
    crm_.server().Post("/crm", [this](const httplib::Request& req, httplib::Response& res) {
      crm_.record(req);
      res.status = 204;
    });
  }

  json settings(json extra = json::object(), const std::string& smtp = "smtp://127.0.0.1:1") {
    json s = {{"templates", ORDO_SOURCE_DIR "/processes/templates"},
              {"deliveryLog", log_},
              {"shop", {{"name", "Ordo Shop"}, {"url", "https://shop.example"}}},
              {"channels",
               {{"email", {{"url", smtp}, {"from", "shop@shop.example"}}},
                {"sms", {{"url", sms_.url("/sms")}}},
                {"push", {{"url", push_.url("/push")}}}}},
              {"rules", {{"order-shipped", {"sms"}}, {"order-delivered", {"sms"}}}},
              {"statusForward", {{"url", crm_.url("/crm")}}}};
    s.update(extra);
    return s;
  }

  std::shared_ptr<Notifier> make(const json& s) {
    auto n = Notifier::create(s, "");
    EXPECT_TRUE(n.is_ok()) << n.status().to_string();
    return n.is_ok() ? *n : nullptr;
  }

  static std::string segment_of(Notifier& n, const FakeJob& job, json* history = nullptr) {
    JobOutcome out = n.segment(job);
    EXPECT_EQ(out.kind(), JobOutcome::Kind::kComplete) << out.message();
    if (out.kind() != JobOutcome::Kind::kComplete) return {};
    if (history != nullptr) *history = out.variables()["customerHistory"];
    return out.variables()["segment"].get<std::string>();
  }

  TempDir scratch_{"engage"};
  std::string log_;
  HttpPeer sms_, push_, crm_;
};

const json kExperiment = {
    {"shipped-copy",
     {{"message", "order-shipped"},
      {"variants", {{"control", "order-shipped"}, {"short", "order-shipped-short"}}},
      {"weights", {{"default", {{"control", 1}, {"short", 1}}}, {"active", {{"control", 1}}}}}}}};

TEST_P(EngagementTest, ASegmentFollowsTheCustomersOrdersAndStaysWithItsOrder) {
  auto n = make(settings({{"segments", {{"windowDays", 30}, {"activeMinOrders", 3}}}}));
  ASSERT_TRUE(n);
  json history;
  EXPECT_EQ(segment_of(*n, segment_job("C-7", "A-1", kDayOne), &history), "new");
  EXPECT_EQ(history["orders"], 0);
  EXPECT_TRUE(history["firstOrderDate"].is_null());
  EXPECT_EQ(segment_of(*n, segment_job("C-7", "A-2", kDayOne + 10 * kOneDay)), "occasional");
  EXPECT_EQ(segment_of(*n, segment_job("C-7", "A-3", kDayOne + 12 * kOneDay)), "occasional");
  EXPECT_EQ(segment_of(*n, segment_job("C-7", "A-4", kDayOne + 14 * kOneDay), &history), "active");
  EXPECT_EQ(history["orders"], 3);
  EXPECT_EQ(history["ordersInWindow"], 3);
  EXPECT_EQ(history["firstOrderDate"], "2026-12-01");
  EXPECT_EQ(history["daysSinceFirstOrder"], 14);
  // Long after: the window holds none of the earlier orders.
  EXPECT_EQ(segment_of(*n, segment_job("C-7", "A-5", kDayOne + 100 * kOneDay), &history),
            "occasional");
  EXPECT_EQ(history["ordersInWindow"], 0);
  EXPECT_EQ(history["orders"], 4);
  // The job of A-4 again (a retry, long after): the segment it was given, the history as it was.
  EXPECT_EQ(segment_of(*n, segment_job("C-7", "A-4", kDayOne + 200 * kOneDay), &history), "active");
  EXPECT_EQ(history["orders"], 3);
  // Another customer is new; customers are told apart.
  EXPECT_EQ(segment_of(*n, segment_job("C-8", "B-1", kDayOne + 14 * kOneDay)), "new");

  // newWithinDays: a customer whose first order is recent is still new.
  auto lenient = make(settings({{"segments", {{"newWithinDays", 7}}}}));
  ASSERT_TRUE(lenient);
  EXPECT_EQ(segment_of(*lenient, segment_job("C-9", "C-1", kDayOne)), "new");
  EXPECT_EQ(segment_of(*lenient, segment_job("C-9", "C-2", kDayOne + 5 * kOneDay)), "new");
  EXPECT_EQ(segment_of(*lenient, segment_job("C-9", "C-3", kDayOne + 9 * kOneDay)), "occasional");
}

std::string segment_dmn() {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="segdefs" name="Segments" namespace="https://ordo.test/segments">
  <decision id="customer-segment" name="Customer segment">
    <decisionTable id="segtable" hitPolicy="FIRST">
      <input id="in1"><inputExpression typeRef="number"><text>orders</text></inputExpression></input>
      <input id="in2"><inputExpression typeRef="string"><text>customer.tier</text></inputExpression></input>
      <output id="out1" name="segment" typeRef="string"/>
      <rule id="gold"><inputEntry><text>-</text></inputEntry><inputEntry><text>"gold"</text></inputEntry>
        <outputEntry><text>"vip"</text></outputEntry></rule>
      <rule id="loyal"><inputEntry><text>&gt;= 2</text></inputEntry><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"loyal"</text></outputEntry></rule>
      <rule id="rest"><inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"first-timer"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>)";
}

TEST_P(EngagementTest, ADeployedDecisionGivesTheSegmentWhenConfigured) {
  Engine engine;
  ASSERT_OK(engine.deploy_decisions("segments.dmn", segment_dmn()).status());
  auto n = make(settings({{"segments", {{"decision", "customer-segment"}}}}));
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->needs_decisions());
  AdapterConfig config;
  config.notifier = n;
  config.attach(engine);
  EXPECT_EQ(segment_of(*n, segment_job("D-1", "D-1a", kDayOne)), "first-timer");
  EXPECT_EQ(segment_of(*n, segment_job("D-1", "D-1b", kDayOne + kOneDay)), "first-timer");
  EXPECT_EQ(segment_of(*n, segment_job("D-1", "D-1c", kDayOne + 2 * kOneDay)), "loyal");
  FakeJob gold(json{{"customer", {{"id", "D-2"}, {"tier", "gold"}}}});
  gold.business("D-2a").at(kDayOne);
  EXPECT_EQ(segment_of(*n, gold), "vip");

  // A decision that is not deployed is an incident that says so; nothing is recorded, so
  // the retry after deploying it decides afresh.
  auto missing = make(settings({{"segments", {{"decision", "no-such-decision"}}}}));
  ASSERT_TRUE(missing);
  AdapterConfig other;
  other.notifier = missing;
  other.attach(engine);
  JobOutcome out = missing->segment(segment_job("D-3", "D-3a", kDayOne));
  EXPECT_EQ(out.kind(), JobOutcome::Kind::kFail);
  EXPECT_EQ(out.retries(), 0) << "an incident at once";
  EXPECT_NE(out.message().find("'no-such-decision': is not deployed"), std::string::npos)
      << out.message();
}

TEST_P(EngagementTest, EachSegmentHasItsOwnChannelsCapsAndMessages) {
  auto n = make(settings(
      {{"segments",
        {{"bySegment",
          {{"active", {{"rules", {{"order-shipped", {"push"}}}}}},
           {"new", {{"skip", {"order-delivered"}}}},
           {"occasional", {{"capPerHour", 1}}}}}}}}));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->handle(shipped_job("C-1", "A-1", "active")).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(push_.seen().size(), 1u) << "the active segment's rule: push";
  EXPECT_EQ(sms_.seen().size(), 0u);
  EXPECT_EQ(n->handle(shipped_job("C-2", "A-2", "new", "order-delivered")).kind(),
            JobOutcome::Kind::kComplete);
  EXPECT_EQ(sms_.seen().size(), 0u) << "order-delivered is not sent to new customers";
  auto skipped = n->deliveries("A-2");
  ASSERT_OK(skipped.status());
  ASSERT_EQ(skipped->size(), 1u);
  EXPECT_EQ((*skipped)[0].status, "skipped");
  EXPECT_EQ((*skipped)[0].segment, "new");
  EXPECT_NE((*skipped)[0].error.find("segment new"), std::string::npos) << (*skipped)[0].error;
  EXPECT_EQ(n->handle(shipped_job("C-3", "A-3", "occasional")).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(sms_.seen().size(), 1u) << "the general rule: sms";
  // The occasional segment's cap of one an hour holds the second message back.
  EXPECT_EQ(n->handle(shipped_job("C-3", "A-4", "occasional")).kind(), JobOutcome::Kind::kDefer);
  // Without a segment (a process without customer.segment): the general rules.
  EXPECT_EQ(n->handle(shipped_job("C-4", "A-5", "")).kind(), JobOutcome::Kind::kComplete);
  EXPECT_EQ(sms_.seen().size(), 2u);
}

TEST_P(EngagementTest, EachCustomerSeesOneVariantChosenByTheHashAndRecorded) {
  auto n = make(settings({{"experiments", kExperiment}}));
  ASSERT_TRUE(n);
  std::map<std::string, std::string> variant_of;
  for (int i = 0; i < 200; ++i) {
    const std::string customer = "V-" + std::to_string(i);
    ASSERT_EQ(n->handle(shipped_job(customer, "O-" + std::to_string(i), "occasional")).kind(),
              JobOutcome::Kind::kComplete);
  }
  const auto sent = sms_.seen();
  ASSERT_EQ(sent.size(), 200u);
  auto all = n->deliveries();
  ASSERT_OK(all.status());
  ASSERT_EQ(all->size(), 200u);
  int shorts = 0;
  for (std::size_t i = 0; i < all->size(); ++i) {
    const DeliveryRecord& d = (*all)[i];
    EXPECT_EQ(d.experiment, "shipped-copy");
    EXPECT_EQ(d.segment, "occasional");
    ASSERT_TRUE(d.variant == "control" || d.variant == "short") << d.variant;
    variant_of[d.customer] = d.variant;
    shorts += d.variant == "short";
    // What went out is the variant's text.
    const std::string text = json::parse(sent[i].body)["text"];
    EXPECT_EQ(text.find("Your order") == std::string::npos, d.variant == "short") << text;
  }
  EXPECT_GT(shorts, 70) << "an even split, by the hash";
  EXPECT_LT(shorts, 130);

  // A second order of the same customers: the same variant. Customers who are now active
  // (whose weights give only control) keep the variant they saw first.
  for (int i = 0; i < 40; ++i) {
    const std::string customer = "V-" + std::to_string(i);
    ASSERT_EQ(n->handle(shipped_job(customer, "P-" + std::to_string(i), i % 2 ? "active" : "occasional"))
                  .kind(),
              JobOutcome::Kind::kComplete);
    auto d = n->deliveries("P-" + std::to_string(i));
    ASSERT_OK(d.status());
    ASSERT_EQ(d->size(), 1u);
    EXPECT_EQ((*d)[0].variant, variant_of[customer]) << customer;
  }
  // A customer now in a segment the experiment has no weights for keeps their variant too;
  // a new customer there takes no part (the message itself, no experiment recorded).
  json partial = kExperiment;
  partial["shipped-copy"]["weights"] = {{"occasional", {{"control", 1}, {"short", 1}}}};
  json partial_settings = settings({{"experiments", partial}});
  auto narrowed = make(partial_settings);
  ASSERT_TRUE(narrowed);
  ASSERT_EQ(narrowed->handle(shipped_job("V-3", "S-3", "vip")).kind(), JobOutcome::Kind::kComplete);
  auto kept = narrowed->deliveries("S-3");
  ASSERT_OK(kept.status());
  EXPECT_EQ((*kept)[0].variant, variant_of["V-3"]);
  ASSERT_EQ(narrowed->handle(shipped_job("N-1", "S-4", "vip")).kind(), JobOutcome::Kind::kComplete);
  auto outside = narrowed->deliveries("S-4");
  ASSERT_OK(outside.status());
  EXPECT_EQ((*outside)[0].experiment, "");
  EXPECT_EQ((*outside)[0].variant, "");
  // A new active customer gets control only.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(n->handle(shipped_job("W-" + std::to_string(i), "Q-" + std::to_string(i), "active"))
                  .kind(),
              JobOutcome::Kind::kComplete);
    auto d = n->deliveries("Q-" + std::to_string(i));
    ASSERT_OK(d.status());
    EXPECT_EQ((*d)[0].variant, "control");
  }
  // Another node, on a delivery log of its own, picks the same variants: the hash decides.
  const TempDir elsewhere("engage-other");
  json other_settings = settings({{"experiments", kExperiment}});
  other_settings["deliveryLog"] = elsewhere.path("other.db");
  auto other = make(other_settings);
  ASSERT_TRUE(other);
  for (int i = 100; i < 130; ++i) {
    const std::string customer = "V-" + std::to_string(i);
    ASSERT_EQ(other->handle(shipped_job(customer, "R-" + std::to_string(i), "occasional")).kind(),
              JobOutcome::Kind::kComplete);
    auto d = other->deliveries("R-" + std::to_string(i));
    ASSERT_OK(d.status());
    EXPECT_EQ((*d)[0].variant, variant_of[customer]) << customer;
  }
}

// The tracking URL of `kind` ("o" or "c") in `text`, or "".
std::string tracking_token_in(const std::string& text, const char* kind) {
  const std::string prefix = std::string("https://t.example/ordo/t/") + kind + "/";
  const std::size_t at = text.find(prefix);
  if (at == std::string::npos) return {};
  std::size_t end = at + prefix.size();
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                               text[end] == '-' || text[end] == '_' || text[end] == '.')) {
    ++end;
  }
  return text.substr(at + prefix.size(), end - at - prefix.size());
}

const json kTracking = {{"baseUrl", "https://t.example/ordo/"},
                        {"secret", "a-long-tracking-secret-0123456789"},
                        {"clickChannels", {"email", "sms"}},
                        {"linkHosts", {"track.example"}}};

TEST_P(EngagementTest, ClicksGoOnlyWhereTheMessageLinkedAndAreRecordedOnceAndForwarded) {
  auto n = make(settings({{"tracking", kTracking}, {"experiments", kExperiment}}));
  ASSERT_TRUE(n);
  ASSERT_TRUE(n->tracking());
  ASSERT_EQ(n->handle(shipped_job("T-1", "A-1", "occasional")).kind(), JobOutcome::Kind::kComplete);
  ASSERT_EQ(sms_.seen().size(), 1u);
  const std::string text = json::parse(sms_.seen()[0].body)["text"];
  EXPECT_EQ(text.find("track.example"), std::string::npos) << "the link goes through the redirect";
  const std::string token = tracking_token_in(text, "c");
  ASSERT_FALSE(token.empty()) << text;

  auto click = n->track("c", token, kDayOne + 60'000);
  ASSERT_OK(click.status());
  EXPECT_EQ(click->redirect, "https://track.example/0034043416?lang=en&from=mail");
  EXPECT_TRUE(click->recorded);
  EXPECT_TRUE(click->problem.ok()) << click->problem.to_string();
  auto again = n->track("c", token, kDayOne + 120'000);
  ASSERT_OK(again.status());
  EXPECT_FALSE(again->recorded) << "once per message and event";
  EXPECT_EQ(again->redirect, click->redirect);
  const auto forwarded = crm_.seen();
  ASSERT_EQ(forwarded.size(), 1u);
  const json body = json::parse(forwarded[0].body);
  EXPECT_EQ(body["status"], "clicked");
  EXPECT_EQ(body["orderId"], "A-1");
  EXPECT_EQ(body["message"], "order-shipped");
  EXPECT_EQ(body["segment"], "occasional");
  EXPECT_EQ(body["experiment"], "shipped-copy");
  EXPECT_EQ(body["detail"]["url"], click->redirect);
  auto d = n->deliveries("A-1");
  ASSERT_OK(d.status());
  EXPECT_EQ((*d)[0].provider_status, "clicked");

  // Edited URLs are refused: another destination, a flipped character, a token of a click
  // used as an open, one signed with another secret.
  std::string edited = token;
  edited[5] = edited[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(n->track("c", edited, kDayOne).is_ok());
  EXPECT_FALSE(n->track("o", token, kDayOne).is_ok());
  EXPECT_FALSE(n->track("c", token.substr(0, token.find('.')) + ".AAAAAAAAAAAAAAAAAAAAAA", kDayOne)
                   .is_ok());
  EXPECT_FALSE(n->track("c", "", kDayOne).is_ok());
  EXPECT_FALSE(n->track("c", "...", kDayOne).is_ok());
  json other_secret = kTracking;
  other_secret["secret"] = "another-secret-of-enough-length";
  auto forger = make(settings({{"tracking", other_secret}}));
  ASSERT_TRUE(forger);
  ASSERT_EQ(forger->handle(shipped_job("T-2", "A-2", "occasional")).kind(), JobOutcome::Kind::kComplete);
  const std::string forged = tracking_token_in(json::parse(sms_.seen()[1].body)["text"], "c");
  ASSERT_FALSE(forged.empty());
  auto refused = n->track("c", forged, kDayOne);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(crm_.seen().size(), 1u) << "nothing refused was recorded or forwarded";
}

TEST_P(EngagementTest, EmailCarriesAnOpenPixelAndTrackedLinksUnlessTheCustomerOptedOut) {
  SmtpSink smtp(scratch_.path("mail.jsonl"));
  ASSERT_NE(smtp.port(), 0) << "no SMTP server: install python3-aiosmtpd (scripts/install-deps)";
  json s = settings({{"tracking", kTracking}, {"rules", {{"order-shipped", {"email"}}}}}, smtp.url());
  auto n = make(s);
  ASSERT_TRUE(n);
  ASSERT_EQ(n->handle(shipped_job("E-1", "A-1", "new")).kind(), JobOutcome::Kind::kComplete);
  FakeJob private_job(shipped_vars("E-2", "new"));
  private_job.vars()["customer"]["optOut"] = json::array({"tracking"});
  private_job.with_header("template", "order-shipped").business("A-2").keyed("n:A-2").at(kDayOne);
  ASSERT_EQ(n->handle(private_job).kind(), JobOutcome::Kind::kComplete);
  const auto mail = smtp.mail();
  ASSERT_EQ(mail.size(), 2u);
  const std::string html = mail[0]["html"], text = mail[0]["text"];
  const std::string pixel = tracking_token_in(html, "o");
  ASSERT_FALSE(pixel.empty()) << html;
  EXPECT_NE(html.find("width=\"1\" height=\"1\""), std::string::npos);
  EXPECT_EQ(html.find("href=\"https://track.example"), std::string::npos) << "links tracked";
  EXPECT_EQ(html.find("href=\"https://shop.example"), std::string::npos);
  EXPECT_FALSE(tracking_token_in(html, "c").empty());
  EXPECT_FALSE(tracking_token_in(text, "c").empty()) << text;
  EXPECT_EQ(text.find("https://track.example"), std::string::npos) << text;
  // The opted-out customer: no pixel, links as written.
  const std::string private_html = mail[1]["html"];
  EXPECT_TRUE(tracking_token_in(private_html, "o").empty());
  EXPECT_TRUE(tracking_token_in(private_html, "c").empty());
  EXPECT_NE(private_html.find("href=\"https://track.example/0034043416?lang=en&amp;from=mail\""),
            std::string::npos)
      << private_html;

  // The pixel, fetched twice (mail apps do): one open, one forward.
  auto open = n->track("o", pixel, kDayOne + 5'000);
  ASSERT_OK(open.status());
  EXPECT_TRUE(open->recorded);
  EXPECT_FALSE(n->track("o", pixel, kDayOne + 9'000)->recorded);
  ASSERT_EQ(crm_.seen().size(), 1u);
  EXPECT_EQ(json::parse(crm_.seen()[0].body)["status"], "opened");
  // The click in the HTML part: the order's link as it was before HTML escaping.
  auto click = n->track("c", tracking_token_in(html, "c"), kDayOne + 10'000);
  ASSERT_OK(click.status());
  EXPECT_EQ(click->redirect, "https://track.example/0034043416?lang=en&from=mail");
  // The shop's own links are tracked too (linkHosts starts with shop.url's host); mailto:
  // links stay as written.
  EXPECT_NE(html.find("href=\"https://t.example/ordo/t/c/"), std::string::npos);
  EXPECT_EQ(html.find("href=\"https://shop.example"), std::string::npos) << html;

  auto counts = n->engagement();
  ASSERT_OK(counts.status());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].channel, "email");
  EXPECT_EQ((*counts)[0].segment, "new");
  EXPECT_EQ((*counts)[0].sent, 2);
  EXPECT_EQ((*counts)[0].opened, 1);
  EXPECT_EQ((*counts)[0].clicked, 1);
}

TEST_P(EngagementTest, OnlyLinksToTheConfiguredHostsInLinkTagsAreTracked) {
  json s = settings({{"tracking", kTracking}, {"experiments", kExperiment}});
  auto n = make(s);
  ASSERT_TRUE(n);
  // A link that came with the order's data (a customer who wrote a URL into their name) is
  // left as written: the shop never signs a redirect to it.
  FakeJob job = shipped_job("T-9", "A-9", "new");
  job.vars()["customer"]["name"] = "https://evil.example/x";
  job.vars()["trackingUrl"] = "https://evil.example/parcel";
  ASSERT_EQ(n->handle(job).kind(), JobOutcome::Kind::kComplete);
  const std::string text = json::parse(sms_.seen().back().body)["text"];
  EXPECT_TRUE(tracking_token_in(text, "c").empty()) << text;
  EXPECT_NE(text.find("https://evil.example/parcel"), std::string::npos) << text;
  // A URL with a line break or a space in it is not a link to track (a header in the making).
  FakeJob crlf = shipped_job("T-10", "A-10", "new");
  crlf.vars()["trackingUrl"] = "https://track.example/x\r\nSet-Cookie: a=b";
  ASSERT_EQ(n->handle(crlf).kind(), JobOutcome::Kind::kComplete);
  const std::string crlf_text = json::parse(sms_.seen().back().body)["text"];
  const std::string token = tracking_token_in(crlf_text, "c");
  if (!token.empty()) {
    auto r = n->track("c", token, kDayOne);
    ASSERT_OK(r.status());
    EXPECT_EQ(r->redirect.find_first_of("\r\n "), std::string::npos) << r->redirect;
  }
  // A rotated secret: links signed with the previous one still lead where they did.
  FakeJob before = shipped_job("T-11", "A-11", "new");
  ASSERT_EQ(n->handle(before).kind(), JobOutcome::Kind::kComplete);
  const std::string old_token = tracking_token_in(json::parse(sms_.seen().back().body)["text"], "c");
  ASSERT_FALSE(old_token.empty());
  s["tracking"]["previousSecrets"] = {s["tracking"]["secret"]};
  s["tracking"]["secret"] = "the-new-tracking-secret-9876543210";
  auto rotated = make(s);
  ASSERT_TRUE(rotated);
  auto followed = rotated->track("c", old_token, kDayOne);
  ASSERT_OK(followed.status());
  EXPECT_EQ(followed->redirect, "https://track.example/0034043416?lang=en&from=mail");
  // Checked but not recorded (a HEAD request).
  auto looked = n->track("c", old_token, kDayOne, false);
  ASSERT_OK(looked.status());
  EXPECT_FALSE(looked->recorded);
}

TEST(EngagementRewriting, LinkTagsOnlyAndTheTextsUrlsWithoutTrailingPunctuation) {
  auto tracking = notify::parse_tracking(
      {{"baseUrl", "https://t.example"}, {"secret", "0123456789abcdef0123"}, {"linkHosts", {"*.shop.example"}}},
      "tracking", "https://shop.example");
  ASSERT_OK(tracking.status());
  RenderedMessage m;
  m.html = "<html><head><link rel=\"stylesheet\" href=\"https://shop.example/s.css\"></head><body>"
           "<a class=\"b\" href=\"https://shop.example/a?x=1&amp;y=2\">A</a> "
           "<a href='https://www.shop.example/b'>B</a> <a href=\"mailto:help@shop.example\">M</a> "
           "<A HREF=\"https://other.example/c\">C</A></body></html>";
  m.text = "See https://shop.example/a?x=1&y=2. Or (https://www.shop.example/b), or "
           "https://other.example/c!";
  notify::add_tracking(m, *tracking, "order-shipped:A-1", "email");
  EXPECT_NE(m.html.find("href=\"https://shop.example/s.css\""), std::string::npos)
      << "a stylesheet is not a click";
  EXPECT_NE(m.html.find("href=\"mailto:help@shop.example\""), std::string::npos);
  EXPECT_NE(m.html.find("HREF=\"https://other.example/c\""), std::string::npos);
  EXPECT_EQ(m.html.find("https://shop.example/a"), std::string::npos) << m.html;
  EXPECT_EQ(m.html.find("https://www.shop.example/b"), std::string::npos) << m.html;
  EXPECT_NE(m.html.find("<img src=\"https://t.example/t/o/"), std::string::npos);
  EXPECT_LT(m.html.find("<img src="), m.html.find("</body>"));
  EXPECT_NE(m.text.find("https://other.example/c!"), std::string::npos) << m.text;
  EXPECT_EQ(m.text.find("https://shop.example"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find(". Or (https://t.example/t/c/"), std::string::npos) << m.text;
  // Each rewritten link leads back to exactly its URL.
  std::vector<std::string> targets;
  for (std::size_t at = 0; (at = m.html.find("https://t.example/t/c/", at)) != std::string::npos;) {
    const std::size_t start = at + std::string("https://t.example/t/c/").size();
    const std::size_t end = m.html.find_first_of("\"'", start);
    auto e = notify::read_tracking_token(*tracking, m.html.substr(start, end - start));
    ASSERT_OK(e.status());
    targets.push_back(e->url);
    at = end;
  }
  EXPECT_EQ(targets, (std::vector<std::string>{"https://shop.example/a?x=1&y=2",
                                               "https://www.shop.example/b"}));
  // One spelling per token: changing the last character's unused bits is refused too.
  const std::size_t at = m.html.find("https://t.example/t/c/") + std::string("https://t.example/t/c/").size();
  std::string token = m.html.substr(at, m.html.find('"', at) - at);
  for (char c : std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")) {
    std::string edited = token;
    if (edited.back() == c) continue;
    edited.back() = c;
    EXPECT_FALSE(notify::read_tracking_token(*tracking, edited).is_ok()) << edited;
  }
}

constexpr const char* kPaymentProcess = R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="pay-defs"
    targetNamespace="https://ordo.test/pay">
  <bpmn:process id="pay" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/>
    <bpmn:exclusiveGateway id="g" default="f3"/>
    <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="payment-received">
      <bpmn:conditionExpression>=pays</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="unpaid"/>
    <bpmn:intermediateThrowEvent id="payment-received"/>
    <bpmn:sequenceFlow id="f4" sourceRef="payment-received" targetRef="paid"/>
    <bpmn:endEvent id="paid"/>
    <bpmn:endEvent id="unpaid"/>
  </bpmn:process>
</bpmn:definitions>)";

TEST_P(EngagementTest, TheReportComparesVariantsByWhatTheOrdersDidWithIntervals) {
  json experiments = kExperiment;
  experiments["shipped-copy"]["outcome"] = "payment-received";
  auto n = make(settings({{"experiments", experiments}}));
  ASSERT_TRUE(n);
  Engine engine;
  LoadResult loaded = load_bpmn(kPaymentProcess, "pay.bpmn");
  ASSERT_TRUE(loaded.ok());
  ASSERT_OK(engine.deploy(loaded.document).status());
  std::map<std::string, int> sent_per_variant;
  for (int i = 0; i < 80; ++i) {
    const std::string order = "O-" + std::to_string(i);
    ASSERT_EQ(n->handle(shipped_job("C-" + std::to_string(i), order, i % 4 ? "occasional" : "new"))
                  .kind(),
              JobOutcome::Kind::kComplete);
    auto d = n->deliveries(order);
    ASSERT_OK(d.status());
    const std::string variant = (*d)[0].variant;
    ++sent_per_variant[variant];
    // The short copy's customers click and pay; the control's do neither.
    const bool short_copy = variant == "short";
    if (short_copy) {
      DeliveryStatus click{"sms", (*d)[0].provider_id, "clicked", kDayOne + 1000, json::object(), false};
      ASSERT_OK(n->provider_status(click).status());
    }
    ASSERT_OK(engine.start({"pay", {{"pays", short_copy}}, order, 0, {}}).status());
  }
  ASSERT_OK(engine.run_until_idle().status());
  ASSERT_EQ(sent_per_variant.size(), 2u);

  auto report = n->experiments_report(&engine);
  ASSERT_OK(report.status());
  ASSERT_EQ((*report)["experiments"].size(), 1u);
  const json& e = (*report)["experiments"][0];
  EXPECT_EQ(e["experiment"], "shipped-copy");
  EXPECT_EQ(e["control"], "control");
  EXPECT_EQ(e["outcome"], "payment-received");
  for (const json& v : e["variants"]) {
    const std::string name = v["variant"];
    const json& all = v["all"];
    EXPECT_EQ(all["sent"], sent_per_variant[name]);
    EXPECT_EQ(all["converted"]["count"], name == "short" ? sent_per_variant[name] : 0) << v;
    EXPECT_EQ(all["clicked"]["rate"], name == "short" ? 1.0 : 0.0);
    // Each segment on its own, adding up to the whole.
    std::int64_t by_segment = 0;
    for (const auto& [segment, t] : v["segments"].items()) by_segment += t["sent"].get<std::int64_t>();
    EXPECT_EQ(by_segment, all["sent"].get<std::int64_t>());
    EXPECT_TRUE(v["segments"].contains("new") && v["segments"].contains("occasional")) << v;
  }
  std::map<std::string, std::string> verdicts;
  for (const json& h : e["headline"]) {
    EXPECT_EQ(h["variant"], "short");
    EXPECT_EQ(h["against"], "control");
    if (h["kpi"] == "converted") {
      // Every short order paid, no control order did: the difference is the whole share.
      EXPECT_DOUBLE_EQ(h["difference"].get<double>(), 1.0);
      EXPECT_GT(h["low"].get<double>(), 0.8);
    }
    verdicts[h["kpi"]] = h["verdict"];
  }
  EXPECT_EQ(verdicts["clicked"], "better");
  EXPECT_EQ(verdicts["converted"], "better");
  EXPECT_EQ(verdicts["delivered"], "better") << "a click proves the delivery";
  EXPECT_EQ(verdicts["opened"], "better") << "a click counts as an open";

  // Without an engine: no outcomes, the rest the same.
  auto plain = engagement_report(log_, {});
  ASSERT_OK(plain.status());
  EXPECT_FALSE((*plain)["experiments"][0].contains("outcome"));
  EXPECT_FALSE((*plain)["experiments"][0]["variants"][0]["all"].contains("converted"));
}

TEST(EngagementReport, WilsonAndNewcombeIntervalsMatchTheirTextbookValues) {
  // Newcombe (1998), table I and II: 81/263 gives [0.2553, 0.3662]; 56/70 vs 48/80 gives a
  // difference of 0.2 in [0.0524, 0.3339].
  const Proportion a = wilson_interval(81, 263);
  EXPECT_NEAR(a.rate, 0.3080, 1e-4);
  EXPECT_NEAR(a.low, 0.2553, 1e-4);
  EXPECT_NEAR(a.high, 0.3662, 1e-4);
  const Difference d = difference_interval(wilson_interval(56, 70), wilson_interval(48, 80));
  EXPECT_NEAR(d.value, 0.2, 1e-9);
  EXPECT_NEAR(d.low, 0.0524, 1e-4);
  EXPECT_NEAR(d.high, 0.3339, 1e-4);
  const Proportion none = wilson_interval(0, 0);
  EXPECT_EQ(none.rate, 0);
  EXPECT_EQ(none.high, 0);
  const Proportion zero = wilson_interval(0, 10);
  EXPECT_EQ(zero.low, 0);
  EXPECT_NEAR(zero.high, 0.2775, 1e-4);
}

TEST_P(EngagementTest, MistakesInTheSettingsAreNamed) {
  const auto error_of = [&](json extra) {
    auto n = Notifier::create(settings(std::move(extra)), "");
    return n.is_ok() ? std::string("(accepted)") : n.status().message();
  };
  json missing = kExperiment;
  missing["shipped-copy"]["variants"]["long"] = "order-shipped-long";
  EXPECT_NE(error_of({{"experiments", missing}})
                .find("experiments.shipped-copy.variants.long: no template de/order-shipped-long.email"),
            std::string::npos)
      << error_of({{"experiments", missing}});
  json unknown = kExperiment;
  unknown["shipped-copy"]["weights"]["new"] = {{"contol", 1}};
  EXPECT_NE(error_of({{"experiments", unknown}}).find("weights.new.contol: no such variant"),
            std::string::npos);
  json zero = kExperiment;
  zero["shipped-copy"]["weights"]["new"] = {{"control", 0}};
  EXPECT_NE(error_of({{"experiments", zero}}).find("weights.new: every weight is 0"),
            std::string::npos);
  EXPECT_NE(error_of({{"tracking", {{"baseUrl", "https://t.example"}, {"secret", "short"}}}})
                .find("tracking.secret: is shorter than 16"),
            std::string::npos);
  EXPECT_NE(error_of({{"tracking", {{"baseUrl", "t.example"}, {"secret", "0123456789abcdef"}}}})
                .find("tracking.baseUrl"),
            std::string::npos);
  EXPECT_NE(error_of({{"segments", {{"windowDays", 0}}}}).find("segments.windowDays"),
            std::string::npos);
  EXPECT_NE(error_of({{"segments", {{"bySegment", {{"new", {{"rules", {{"order-shipped", {"fax"}}}}}}}}}}})
                .find("segments.bySegment.new.rules.order-shipped: channel 'fax'"),
            std::string::npos);
  EXPECT_NE(error_of({{"segments", {{"thresholds", 1}}}}).find("segments.thresholds"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(DeliveryLogs, EngagementTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return std::string(p.param ? "Postgres" : "Sqlite");
                         });

}  // namespace
}  // namespace ordo::testing
