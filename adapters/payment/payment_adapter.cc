// The payment adapter: charge and cancel (void or refund), as JSON over HTTP under one base
// URL (docs/adapters.md#payment). The confirmation arrives later as a webhook
// (payment_webhook.cc) and is correlated as a message.
#include <array>

#include "http/protocol_adapter.h"
#include "ordo/adapters/adapters.h"

namespace ordo {
namespace {

using nlohmann::json;
using namespace adapters;

JobOutcome declined(const ProtocolSettings& s, const Reply& r) {
  const json* reason = r.field("declineReason");
  const json why = reason != nullptr && reason->is_string() ? *reason : json();
  return JobOutcome::error(
      s.error_code,
      r.said + ": the charge was declined" + (why.is_string() ? ": " + why.get<std::string>() : ""),
      {{"declineReason", why}});
}

JobOutcome charge(const ProtocolSettings& s, const Job& job) {
  const json* total = given(job, "total");
  if (total == nullptr || !total->is_number()) {
    return bad_variable(s, "total",
                        "must be the amount to charge (a number), not " +
                            (total == nullptr ? std::string("missing") : total->dump()));
  }
  const json* currency = given(job, "currency");
  if (currency == nullptr || !currency->is_string() || currency->get<std::string>().empty()) {
    return bad_variable(s, "currency", "must be the currency code of the total (e.g. \"EUR\")");
  }
  json body = order_body(job, {"customerId", "paymentMethod"});
  body["amount"] = *total;
  body["currency"] = *currency;
  return post(s, job, "/charges", body, [&](const Reply& r) {
    if (r.status == 402) return declined(s, r);
    if (r.status >= 400) return refused(r, "the payment provider refused the charge");
    const json* status = r.field("status");
    const std::string said =
        status != nullptr && status->is_string() ? status->get<std::string>() : std::string();
    if (said == "declined") return declined(s, r);
    if (said != "pending" && said != "approved") {
      return malformed(r, "has no status pending, approved or declined");
    }
    auto id = id_text(r.field("paymentId"));
    if (!id) return malformed(r, "has no paymentId");
    return JobOutcome::complete({{"paymentId", *id}, {"paymentStatus", said}});
  });
}

JobOutcome cancel(const ProtocolSettings& s, const Job& job) {
  const json nothing = {{"paymentCancellation", "none"}};
  const json* payment = given(job, "paymentId");
  if (payment == nullptr) return JobOutcome::complete(nothing);  // nothing was charged
  auto id = id_text(payment);
  if (!id) return bad_variable(s, "paymentId", "must be text, not " + payment->dump());
  return post(s, job, "/charges/" + path_segment(*id) + "/cancel", order_body(job, {}),
              [&](const Reply& r) {
                // Nothing to cancel: never captured, failed, or cancelled before.
                if (r.status == 404 || r.status == 409) return JobOutcome::complete(nothing);
                if (r.status >= 400) return refused(r, "the payment provider refused to cancel");
                const json* status = r.field("status");
                if (status == nullptr ||
                    (*status != "voided" && *status != "refunded" && *status != "none")) {
                  return malformed(r, "has no status voided, refunded or none");
                }
                return JobOutcome::complete({{"paymentCancellation", *status}});
              });
}

constexpr std::array<Operation, 2> kOperations = {{
    {"charge", charge, "PAYMENT_DECLINED"},
    {"cancel", cancel},
}};

}  // namespace

Result<TaskHandler> make_payment_adapter(const json& settings, const std::string& where) {
  return make_protocol_adapter(settings, where, "payment", kOperations);
}

}  // namespace ordo
