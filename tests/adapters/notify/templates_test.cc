// The notification templates in processes/templates/: every message renders in every
// locale, greetings follow the data and never guess, money follows the locale, strings stay
// strings.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ordo/adapters/notifications.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;

const std::string kTemplates = ORDO_SOURCE_DIR "/processes/templates";

json order(json customer) {
  return {
      {"orderId", "A-1001"},
      {"customer", std::move(customer)},
      {"items",
       {{{"sku", "SKU-1"}, {"name", "Espresso machine"}, {"quantity", 2}, {"unitPrice", 1249.5}},
        {{"sku", "SKU-2"}, {"quantity", 1}, {"unitPrice", 24.9}}}},
      {"total", 2523.9},
      {"currency", "EUR"},
      {"trackingNumber", "00340434161094042557"},
      {"carrier", "DHL"},
      {"trackingUrl", "https://track.example/00340434161094042557"},
      {"shippingAddress",
       {{"street", "Königsbrücker Str. 1"}, {"postalCode", "01067"}, {"city", "Dresden"}}},
      {"unavailableItems", {{{"sku", "SKU-1"}, {"requested", 2}, {"available", 0}}}}};
}

NotificationTemplates load() {
  auto t = NotificationTemplates::load(kTemplates);
  EXPECT_TRUE(t.is_ok()) << t.status().to_string();
  return std::move(*t);
}

TEST(NotificationTemplates, EveryMessageRendersForEveryChannelInEveryLocale) {
  NotificationTemplates t = load();
  const std::vector<std::string> locales = t.locales();
  for (const char* l : {"en", "de", "pl", "ru"}) {
    EXPECT_NE(std::find(locales.begin(), locales.end(), l), locales.end()) << l;
  }
  const json vars = order({{"name", "Anna Schmidt"}});
  for (const std::string& locale : locales) {
    const json view = t.view(vars, "A-1001", locale, {{"name", "Ordo Shop"}});
    for (const char* message : {"order-confirmation", "order-shipped", "order-delivered",
                                "payment-failed", "order-unavailable", "order-cancelled",
                                "shipping-failed"}) {
      for (const char* channel : {"email", "sms", "push"}) {
        SCOPED_TRACE(locale + "/" + message + "." + channel);
        auto r = t.render(message, channel, locale, view);
        ASSERT_OK(r.status());
        EXPECT_EQ(r->locale, locale) << "each locale has its own template";
        EXPECT_FALSE(r->text.empty());
        EXPECT_EQ(r->text.find("{{"), std::string::npos);
        EXPECT_NE(r->text.find("A-1001"), std::string::npos) << r->text;
        if (std::string(channel) != "sms") {
          EXPECT_FALSE(r->subject.empty());
        }
        if (std::string(channel) == "email") {
          EXPECT_NE(r->html.find("</html>"), std::string::npos);
          EXPECT_NE(r->html.find("A-1001"), std::string::npos);
        }
      }
    }
  }
}

TEST(NotificationTemplates, TheSalutationComesFromTheDataAndIsNeverGuessed) {
  NotificationTemplates t = load();
  const auto greeting = [&](json customer, const char* locale) {
    return t.view(order(std::move(customer)), "A-1", locale, {})["greeting"].get<std::string>();
  };
  EXPECT_EQ(
      greeting({{"name", "Anna Schmidt"}, {"lastName", "Schmidt"}, {"salutation", "ms"}}, "de"),
      "Sehr geehrte Frau Schmidt,");
  EXPECT_EQ(
      greeting({{"name", "Jonas Becker"}, {"lastName", "Becker"}, {"salutation", "MR"}}, "de"),
      "Sehr geehrter Herr Becker,");
  // A first name that "sounds" female or male says nothing: neutral.
  EXPECT_EQ(
      greeting({{"name", "Anna Schmidt"}, {"firstName", "Anna"}, {"lastName", "Schmidt"}}, "de"),
      "Guten Tag Anna Schmidt,");
  // A salutation without a last name cannot be used: neutral, not "Herr ,".
  EXPECT_EQ(greeting({{"name", "Kim"}, {"salutation", "mr"}}, "en"), "Hello Kim,");
  EXPECT_EQ(greeting(json::object(), "en"), "Hello,");
  EXPECT_EQ(greeting({{"firstName", "Иван"}, {"lastName", "Петров"}, {"salutation", "mr"}}, "ru"),
            "Уважаемый Иван Петров!");
}

TEST(NotificationTemplates, TheCustomersLocaleIsUsedWithAFallback) {
  NotificationTemplates t = load();
  EXPECT_EQ(t.resolve_locale("de-AT"), "de");
  EXPECT_EQ(t.resolve_locale("pl_PL"), "pl");
  EXPECT_EQ(t.resolve_locale("RU"), "ru");
  EXPECT_EQ(t.resolve_locale("fr-FR"), "en");
  EXPECT_EQ(t.resolve_locale(""), "en");
}

TEST(NotificationTemplates, MoneyFollowsTheLocaleAndStringsStayStrings) {
  NotificationTemplates t = load();
  const json vars = order({{"name", "Anna Schmidt"}});
  const json de = t.view(vars, "A-1", "de", {});
  EXPECT_EQ(de["total"], "2.523,90 €");
  EXPECT_EQ(de["items"][0]["unitPrice"], "1.249,50 €");
  EXPECT_EQ(de["items"][0]["lineTotal"], "2.499,00 €");
  EXPECT_EQ(de["items"][1]["name"], "SKU-2") << "an item without a name shows its SKU";
  EXPECT_EQ(de["shippingAddress"]["postalCode"], "01067");
  EXPECT_EQ(de["unavailableItems"][0]["name"], "Espresso machine");
  const json en = t.view(vars, "A-1", "en", {});
  EXPECT_EQ(en["total"], "€2,523.90");
  json pln = vars;
  pln["currency"] = "PLN";
  EXPECT_EQ(t.view(pln, "A-1", "en", {})["total"], "2,523.90 PLN");
  EXPECT_EQ(t.view(pln, "A-1", "pl", {})["total"], "2 523,90 zł");

  auto email = t.render("order-shipped", "email", "de", de);
  ASSERT_OK(email.status());
  EXPECT_NE(email->text.find("01067 Dresden"), std::string::npos) << email->text;
  EXPECT_NE(email->text.find("Königsbrücker Str. 1"), std::string::npos);
  EXPECT_NE(email->text.find("https://track.example/00340434161094042557"), std::string::npos);
}

TEST(NotificationTemplates, AnEmptyTextCountsAsAbsent) {
  NotificationTemplates t = load();
  json vars = order({{"name", "Anna Schmidt"}});
  vars["trackingUrl"] = "";
  vars["trackingNumber"] = "";
  const json view = t.view(vars, "A-1", "en", {});
  EXPECT_FALSE(view["hasTracking"].get<bool>());
  auto sms = t.render("order-shipped", "sms", "en", view);
  ASSERT_OK(sms.status());
  EXPECT_EQ(sms->text.find("http"), std::string::npos) << sms->text;
  EXPECT_EQ(sms->text.find(": ."), std::string::npos) << sms->text;
  EXPECT_EQ(sms->text.back(), '.') << sms->text;
}

TEST(NotificationTemplates, OnlyHtmlIsEscaped) {
  NotificationTemplates t = load();
  json vars = order({{"name", "Müller & Söhne <GmbH>"}});
  const json view = t.view(vars, "A-1", "de", {});
  auto email = t.render("order-confirmation", "email", "de", view);
  ASSERT_OK(email.status());
  EXPECT_NE(email->text.find("Müller & Söhne <GmbH>"), std::string::npos) << email->text;
  EXPECT_NE(email->html.find("Müller &amp; Söhne &lt;GmbH&gt;"), std::string::npos);
  EXPECT_EQ(email->html.find("<GmbH>"), std::string::npos);
}

TEST(NotificationTemplates, ALocaleWithoutAMessageFallsBackToTheDefault) {
  const TempDir scratch("templates");
  const std::string dir = scratch.dir();
  std::filesystem::create_directories(dir + "/en");
  std::filesystem::create_directories(dir + "/de");
  std::ofstream(dir + "/en/strings.json")
      << R"({"greeting": {"neutral": "Hi {{name}},", "anonymous": "Hi,"}})";
  std::ofstream(dir + "/de/strings.json")
      << R"({"greeting": {"neutral": "Hallo {{name}},", "anonymous": "Hallo,"}})";
  std::ofstream(dir + "/en/ping.sms.mustache") << "{{greeting}} ping {{orderId}}\n";
  auto t = NotificationTemplates::load(dir);
  ASSERT_OK(t.status());
  auto r =
      t->render("ping", "sms", "de", t->view({{"customer", {{"name", "Jo"}}}}, "A-7", "de", {}));
  ASSERT_OK(r.status());
  EXPECT_EQ(r->locale, "en");
  EXPECT_EQ(r->text, "Hallo Jo, ping A-7") << "the greeting still speaks the customer's language";
  EXPECT_EQ(t->render("pong", "sms", "de", {}).status().code(), StatusCode::kNotFound);
}

TEST(NotificationTemplates, ABrokenTemplateIsALoadErrorNamingTheFile) {
  const TempDir scratch("templates-broken");
  const std::string dir = scratch.dir();
  std::filesystem::create_directories(dir + "/en");
  std::ofstream(dir + "/en/strings.json")
      << R"({"greeting": {"neutral": "Hi", "anonymous": "Hi"}})";
  std::ofstream(dir + "/en/ping.sms.mustache") << "{{#items}} unclosed\n";
  auto t = NotificationTemplates::load(dir);
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("ping.sms.mustache"), std::string::npos)
      << t.status().message();
  auto missing = NotificationTemplates::load(dir + "/nowhere");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(E164, FormattingIsDroppedAndAnythingElseIsRefusedWithTheReason) {
  EXPECT_EQ(*to_e164("+49 151 2345 6789"), "+4915123456789");
  EXPECT_EQ(*to_e164("+48 (22) 123-45-67"), "+48221234567");
  EXPECT_EQ(*to_e164("+49 (0)151 23456789"), "+4915123456789") << "the trunk zero is dropped";
  EXPECT_FALSE(to_e164("0151 23456789").is_ok()) << "national format: no country code";
  EXPECT_FALSE(to_e164("+0151234567").is_ok());
  EXPECT_FALSE(to_e164("+49 151 CALL ME").is_ok());
  EXPECT_FALSE(to_e164("+4915123456789012345").is_ok()) << "more than 15 digits";
  auto number = to_e164(json(4915123456789));
  ASSERT_FALSE(number.is_ok());
  EXPECT_NE(number.status().message().find("JSON number"), std::string::npos);
}

}  // namespace
}  // namespace ordo::testing
