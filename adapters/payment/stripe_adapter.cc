// The Stripe profile of the payment adapter: PaymentIntents as Stripe documents them
// (form-encoded requests, Bearer API key, Idempotency-Key, amounts in the currency's minor
// unit, errors as {"error": {type, code, decline_code, message}}); docs/adapters.md#stripe.
#include <cmath>
#include <set>

#include "http/protocol_adapter.h"
#include "ordo/adapters/adapters.h"

namespace ordo {
namespace {

using nlohmann::json;
using namespace adapters;
using Fields = std::vector<std::pair<std::string, std::string>>;

// Decimals of a currency's minor unit, as Stripe counts them.
int minor_digits(const std::string& currency) {
  static const std::set<std::string> kZero = {"bif", "clp", "djf", "gnf", "jpy", "kmf",
                                              "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                                              "vuv", "xaf", "xof", "xpf"};
  static const std::set<std::string> kThree = {"bhd", "jod", "kwd", "omr", "tnd"};
  if (kZero.count(currency) != 0) return 0;
  if (kThree.count(currency) != 0) return 3;
  return 2;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The amount in the currency's minor unit ("19.99" EUR -> 1999); nullopt when the total has
// more decimals than the currency, is negative or is too large.
std::optional<std::int64_t> minor_units(double total, const std::string& currency) {
  const int digits = minor_digits(currency);
  const double scaled = total * std::pow(10.0, digits);
  const double rounded = std::round(scaled);
  if (!(rounded > 0) || rounded > 99'999'999'999.0 || std::fabs(scaled - rounded) > 1e-6) {
    return std::nullopt;
  }
  const auto units = static_cast<std::int64_t>(rounded);
  // Stripe takes three-decimal currencies in steps of ten (10.005 KWD is refused).
  if (digits == 3 && units % 10 != 0) return std::nullopt;
  return units;
}

// Stripe's error object of a 4xx answer, or null.
const json* stripe_error(const Reply& r) {
  const json* e = r.field("error");
  return e != nullptr && e->is_object() ? e : nullptr;
}

std::string error_text(const json* e, const char* name) {
  if (e == nullptr) return {};
  auto it = e->find(name);
  return it != e->end() && it->is_string() ? it->get<std::string>() : std::string();
}

JobOutcome stripe_post(const ProtocolSettings& s, const Job& job, const std::string& path,
                       const Fields& fields, const AnswerMapper& map,
                       std::string idempotency_suffix = {}) {
  Request request;
  request.idempotency_suffix = std::move(idempotency_suffix);
  request.url = s.base_url + path;
  request.form = form_encode(fields);
  request.headers.emplace_back("Authorization", "Bearer " + s.profile["apiKey"].get<std::string>());
  if (auto v = s.profile.find("apiVersion"); v != s.profile.end()) {
    request.headers.emplace_back("Stripe-Version", v->get<std::string>());
  }
  return call(s.call, s.where, job, request, map);
}

// A 4xx other than a decline: the API key (401), a request Stripe refuses (400, naming the
// parameter), an Idempotency-Key reused with other parameters (400 idempotency_error).
JobOutcome stripe_refused(const Reply& r, std::string_view doing) {
  // Another request with this key is still running (a retry while the first call is on its
  // way): Stripe's own libraries try again, and so does the job.
  if (r.status == 409) return JobOutcome::fail(r.said + ": " + r.start);
  const json* e = stripe_error(r);
  std::string why = error_text(e, "message");
  if (const std::string param = error_text(e, "param"); !param.empty()) why += " (parameter " + param + ")";
  if (r.status == 401) return JobOutcome::incident(r.said + ": Stripe refused the API key (apiKey): " + why);
  if (error_text(e, "type") == "idempotency_error") {
    return JobOutcome::incident(r.said + ": Stripe saw this job's Idempotency-Key with other "
                                         "parameters (" + why + "); the job's variables changed between attempts");
  }
  return JobOutcome::incident(r.said + ": Stripe refused to " + std::string(doing) + ": " +
                              (why.empty() ? r.start : why));
}

JobOutcome charge(const ProtocolSettings& s, const Job& job) {
  const json* total = given(job, "total");
  if (total == nullptr || !total->is_number()) {
    return bad_variable(s, "total", "must be the amount to charge (a number), not " +
                                        (total == nullptr ? std::string("missing") : total->dump()));
  }
  const json* currency_v = given(job, "currency");
  if (currency_v == nullptr || !currency_v->is_string() || currency_v->get<std::string>().size() != 3) {
    return bad_variable(s, "currency", "must be an ISO 4217 currency code (e.g. \"EUR\")");
  }
  const std::string currency = lower(currency_v->get<std::string>());
  const auto amount = minor_units(total->get<double>(), currency);
  if (!amount) {
    return bad_variable(s, "total", total->dump() + " is not an amount Stripe takes in " + currency +
                                        " (more than zero, at most " +
                                        std::to_string(minor_digits(currency)) +
                                        (minor_digits(currency) == 3 ? " decimals, the last 0)"
                                                                     : " decimals)"));
  }
  const json* method = given(job, "paymentMethod");
  auto method_id = id_text(method);
  if (!method_id) {
    return bad_variable(s, "paymentMethod", "must be the Stripe PaymentMethod to charge (pm_...)");
  }
  Fields f = {{"amount", std::to_string(*amount)},
              {"currency", currency},
              {"confirm", "true"},
              {"payment_method", *method_id},
              {"capture_method", s.profile.value("captureMethod", std::string("automatic"))},
              {"automatic_payment_methods[enabled]", "true"},
              {"automatic_payment_methods[allow_redirects]", "never"},
              {"metadata[orderId]", order_id(job)}};
  if (auto customer = id_text(given(job, "customerId"))) f.emplace_back("customer", *customer);
  return stripe_post(s, job, "/v1/payment_intents", f, [&](const Reply& r) {
    if (r.status == 402) {
      const json* e = stripe_error(r);
      std::string reason = error_text(e, "decline_code");
      if (reason.empty()) reason = error_text(e, "code");
      json vars = {{"declineReason", reason.empty() ? json() : json(reason)}};
      if (e != nullptr) {
        if (auto pi = e->find("payment_intent"); pi != e->end() && pi->is_object()) {
          if (auto id = id_text(&(*pi)["id"])) vars["paymentId"] = *id;
        }
      }
      return JobOutcome::error(s.error_code,
                               r.said + ": the card was declined" +
                                   (reason.empty() ? "" : ": " + reason) + " (" + error_text(e, "message") + ")",
                               vars);
    }
    if (r.status >= 400) return stripe_refused(r, "create the PaymentIntent");
    auto id = id_text(r.field("id"));
    const json* status = r.field("status");
    if (!id || status == nullptr || !status->is_string()) {
      return malformed(r, "is not a PaymentIntent (no id or status)");
    }
    const std::string st = status->get<std::string>();
    std::string mapped;
    if (st == "succeeded") {
      mapped = "approved";
    } else if (st == "requires_capture") {
      mapped = "authorized";
    } else if (st == "processing") {
      mapped = "pending";  // the webhook says how it ends
    } else if (st == "requires_action") {
      // The card wants the customer to authenticate (3-D Secure), and no customer is here
      // to do it: declined, so that the order does not wait for a webhook that never comes.
      return JobOutcome::error(s.error_code, r.said + ": the card requires authentication by the customer",
                               {{"declineReason", "authentication_required"}, {"paymentId", *id}});
    } else if (st == "requires_payment_method" || st == "canceled") {
      return JobOutcome::error(s.error_code, r.said + ": the PaymentIntent is " + st,
                               {{"declineReason", st}, {"paymentId", *id}});
    } else {
      return malformed(r, "has a status Ordo does not know: " + st);
    }
    return JobOutcome::complete({{"paymentId", *id}, {"paymentStatus", mapped}});
  });
}

JobOutcome capture(const ProtocolSettings& s, const Job& job) {
  auto id = id_text(given(job, "paymentId"));
  if (!id) return bad_variable(s, "paymentId", "must be the PaymentIntent to capture (pi_...)");
  return stripe_post(s, job, "/v1/payment_intents/" + path_segment(*id) + "/capture", {},
                     [&](const Reply& r) {
                       if (r.status >= 400) return stripe_refused(r, "capture");
                       const json* status = r.field("status");
                       if (status == nullptr || *status != "succeeded") {
                         return malformed(r, "is not a captured PaymentIntent (status succeeded)");
                       }
                       return JobOutcome::complete({{"paymentStatus", "approved"}});
                     });
}

JobOutcome refund_payment(const ProtocolSettings& s, const Job& job, const std::string& id,
                          const char* outcome_variable, bool whole,
                          std::string idempotency_suffix = {}) {
  Fields f = {{"payment_intent", id}, {"metadata[orderId]", order_id(job)}};
  // A cancel gives everything back; a refund task may give part of it.
  if (const json* amount = given(job, "refundAmount"); amount != nullptr && !whole) {
    if (!amount->is_number()) {
      return bad_variable(s, "refundAmount", "must be a number (the amount to give back), not " + amount->dump());
    }
    const json* currency = given(job, "currency");
    if (currency == nullptr || !currency->is_string()) {
      return bad_variable(s, "currency", "must be the currency of refundAmount (e.g. \"EUR\")");
    }
    const auto units = minor_units(amount->get<double>(), lower(currency->get<std::string>()));
    if (!units) return bad_variable(s, "refundAmount", "is not an amount Stripe takes in that currency");
    f.emplace_back("amount", std::to_string(*units));
  }
  return stripe_post(s, job, "/v1/refunds", f, [&](const Reply& r) {
    if (r.status >= 400) {
      // Refunded in full before: nothing more to give back.
      if (error_text(stripe_error(r), "code") == "charge_already_refunded") {
        return JobOutcome::complete({{outcome_variable, "refunded"}});
      }
      return stripe_refused(r, "refund");
    }
    auto refund = id_text(r.field("id"));
    const json* status = r.field("status");
    if (!refund || status == nullptr || !status->is_string()) return malformed(r, "is not a Refund");
    if (*status == "failed" || *status == "canceled") {
      return JobOutcome::incident(r.said + ": the refund " + *refund + " " +
                                  status->get<std::string>());
    }
    json out = {{"refundId", *refund}, {outcome_variable, "refunded"}};
    return JobOutcome::complete(out);
  }, std::move(idempotency_suffix));
}

// Cancel: void what is not captured, refund what is (the order process's cancel-payment).
JobOutcome cancel(const ProtocolSettings& s, const Job& job) {
  auto id = id_text(given(job, "paymentId"));
  if (!id) return JobOutcome::complete({{"paymentCancellation", "none"}});  // nothing charged
  return stripe_post(s, job, "/v1/payment_intents/" + path_segment(*id) + "/cancel",
                     {{"cancellation_reason", "abandoned"}}, [&](const Reply& r) {
                       // Unknown to this account: a key of another account or mode
                       // (test/live) would say the same, so only Stripe's own code counts.
                       if (r.status == 404 &&
                           error_text(stripe_error(r), "code") == "resource_missing") {
                         return JobOutcome::complete({{"paymentCancellation", "none"}});
                       }
                       if (r.status >= 400) {
                         const json* e = stripe_error(r);
                         // Already captured: give the money back instead.
                         if (error_text(e, "code") == "payment_intent_unexpected_state") {
                           std::string state;
                           if (e != nullptr) {
                             if (auto pi = e->find("payment_intent"); pi != e->end() && pi->is_object()) {
                               state = pi->value("status", std::string());
                             }
                           }
                           if (state == "succeeded") {
                             return refund_payment(s, job, *id, "paymentCancellation", true, ":refund");
                           }
                           if (state == "canceled") {
                             return JobOutcome::complete({{"paymentCancellation", "voided"}});
                           }
                         }
                         return stripe_refused(r, "cancel the PaymentIntent");
                       }
                       return JobOutcome::complete({{"paymentCancellation", "voided"}});
                     });
}

JobOutcome refund(const ProtocolSettings& s, const Job& job) {
  auto id = id_text(given(job, "paymentId"));
  if (!id) return bad_variable(s, "paymentId", "must be the PaymentIntent to refund (pi_...)");
  return refund_payment(s, job, *id, "refundStatus", false);
}

constexpr std::array<Operation, 4> kOperations = {{
    {"charge", charge, "PAYMENT_DECLINED"},
    {"capture", capture},
    {"cancel", cancel},
    {"refund", refund},
}};

const Profile kStripe = {
    "apiKey, captureMethod, apiVersion",
    [](const std::string& key, const json& value, const std::string& at, ProtocolSettings& s) -> Status {
      if (!value.is_string() || value.get<std::string>().empty()) return bad_setting(at, "must be a non-empty string");
      const std::string v = value.get<std::string>();
      if (key == "captureMethod" && v != "automatic" && v != "manual") {
        return bad_setting(at, "must be automatic (capture at once) or manual (authorize; capture later)");
      }
      if (key == "apiKey" && !v.starts_with("sk_") && !v.starts_with("rk_")) {
        return bad_setting(at, "must be a Stripe secret or restricted key (sk_... or rk_...), from ${env:...}");
      }
      s.profile[key] = v;
      return Status::ok();
    },
    [](const ProtocolSettings& s) -> Status {
      if (!s.profile.contains("apiKey")) {
        return bad_setting(s.where + ".apiKey", "is missing: the Stripe secret key, e.g. \"${env:STRIPE_SECRET_KEY}\"");
      }
      return Status::ok();
    },
    "https://api.stripe.com",
};

}  // namespace

Result<TaskHandler> make_stripe_adapter(const json& settings, const std::string& where) {
  return make_protocol_adapter(settings, where, "stripe", kOperations, &kStripe);
}

}  // namespace ordo
