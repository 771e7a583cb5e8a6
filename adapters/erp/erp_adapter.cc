// The ERP adapter: availability, reservation, warehouse hand-over and shipping, as JSON over
// HTTP under one base URL (docs/adapters.md#erp has the request and answer of each).
#include <array>
#include <set>
#include <variant>

#include "http/protocol_adapter.h"
#include "ordo/adapters/adapters.h"

namespace ordo {
namespace {

using nlohmann::json;
using namespace adapters;

// The order's items as the ERP wants them, [{sku, quantity}], or the incident that says
// what is wrong with the variable.
std::variant<json, JobOutcome> order_items(const ProtocolSettings& s, const Job& job) {
  const json* items = given(job, "items");
  if (items == nullptr || !items->is_array() || items->empty()) {
    return bad_variable(s, "items", "must be the order's items: [{sku, quantity}, ...]");
  }
  json out = json::array();
  for (std::size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    const json* sku = item.is_object() && item.contains("sku") ? &item["sku"] : nullptr;
    const json* quantity =
        item.is_object() && item.contains("quantity") ? &item["quantity"] : nullptr;
    if (sku == nullptr || !sku->is_string() || sku->get<std::string>().empty() ||
        quantity == nullptr || !quantity->is_number_integer() ||
        quantity->get<std::int64_t>() < 1) {
      return bad_variable(s, "items[" + std::to_string(i) + "]",
                          "must have a sku (text) and a quantity (a whole number, 1 or more), "
                          "not " +
                              item.dump());
    }
    out.push_back({{"sku", *sku}, {"quantity", *quantity}});
  }
  return out;
}

// POSTs {orderId, items, and the variables named in `optional`} to `path`; a job whose
// items cannot be sent is an incident and sends nothing.
JobOutcome post_items(const ProtocolSettings& s, const Job& job, const std::string& path,
                      std::initializer_list<const char*> optional, const AnswerMapper& map) {
  auto items = order_items(s, job);
  if (auto* failed = std::get_if<JobOutcome>(&items)) return std::move(*failed);
  json body = order_body(job, optional);
  body["items"] = std::move(std::get<json>(items));
  return post(s, job, path, std::move(body), map);
}

// The name the order gives `sku`, or null.
const json* item_name(const Job& job, const std::string& sku) {
  const json* items = given(job, "items");
  if (items == nullptr || !items->is_array()) return nullptr;
  for (const json& item : *items) {
    if (item.is_object() && item.value("sku", json()) == sku && item.contains("name")) {
      return &item["name"];
    }
  }
  return nullptr;
}

JobOutcome check_availability(const ProtocolSettings& s, const Job& job) {
  return post_items(s, job, "/availability", {}, [&](const Reply& r) {
    if (r.status >= 400) return refused(r, "the ERP refused the availability check");
    const json* answered = r.field("items");
    if (answered == nullptr || !answered->is_array()) return malformed(r, "has no items array");
    json short_items = json::array();
    std::set<std::string> skus;
    for (const json& item : *answered) {
      if (!item.is_object() || !item.value("sku", json()).is_string() ||
          !item.value("requested", json()).is_number() ||
          !item.value("available", json()).is_number()) {
        return malformed(
            r, "has an item without sku (text), requested and available (numbers): " + item.dump());
      }
      const std::string sku = item["sku"].get<std::string>();
      skus.insert(sku);
      if (item["available"].get<double>() >= item["requested"].get<double>()) continue;
      json missing = {{"sku", sku}};
      if (const json* name = item_name(job, sku)) missing["name"] = *name;
      missing["requested"] = item["requested"];
      missing["available"] = item["available"];
      short_items.push_back(std::move(missing));
    }
    for (const json& item : *given(job, "items")) {  // checked by post_items
      if (skus.count(item["sku"].get<std::string>()) == 0) {
        return malformed(r, "says nothing about item " + item["sku"].get<std::string>());
      }
    }
    const bool available = short_items.empty();
    return JobOutcome::complete({{"available", available}, {"unavailableItems", short_items}});
  });
}

JobOutcome reserve(const ProtocolSettings& s, const Job& job) {
  return post_items(s, job, "/reservations", {}, [&](const Reply& r) {
    if (r.status == 409) return JobOutcome::error(s.error_code, r.said + ": " + r.start);
    if (r.status >= 400) return refused(r, "the ERP refused the reservation");
    auto id = id_text(r.field("reservationId"));
    if (!id) return malformed(r, "has no reservationId");
    return JobOutcome::complete({{"reservationId", *id}});
  });
}

JobOutcome release(const ProtocolSettings& s, const Job& job) {
  const json* reservation = given(job, "reservationId");
  if (reservation == nullptr) return JobOutcome::complete();  // nothing was reserved
  auto id = id_text(reservation);
  if (!id) return bad_variable(s, "reservationId", "must be text, not " + reservation->dump());
  return post(s, job, "/reservations/" + path_segment(*id) + "/release", order_body(job, {}),
              [&](const Reply& r) {
                // 404: released before (by an earlier attempt, or expired): releasing is
                // idempotent.
                if (r.status == 404 || r.status < 300) return JobOutcome::complete();
                return refused(r, "the ERP refused to release the reservation");
              });
}

JobOutcome handover(const ProtocolSettings& s, const Job& job) {
  return post_items(s, job, "/warehouse-orders", {"reservationId", "shippingAddress"},
                    [&](const Reply& r) {
                      if (r.status >= 400) return refused(r, "the ERP refused the warehouse order");
                      auto id = id_text(r.field("warehouseOrderId"));
                      if (!id) return malformed(r, "has no warehouseOrderId");
                      return JobOutcome::complete({{"warehouseOrderId", *id}});
                    });
}

JobOutcome ship(const ProtocolSettings& s, const Job& job) {
  return post(s, job, "/shipments", order_body(job, {"warehouseOrderId", "shippingAddress"}),
              [&](const Reply& r) {
                if (r.status >= 400) return refused(r, "the ERP refused the shipment");
                auto tracking = id_text(r.field("trackingNumber"));
                const json* carrier = r.field("carrier");
                if (!tracking || carrier == nullptr || !carrier->is_string()) {
                  return malformed(r, "lacks trackingNumber or carrier");
                }
                const json* url = r.field("trackingUrl");
                if (url != nullptr && !url->is_string() && !url->is_null()) {
                  return malformed(r, "has a trackingUrl that is not text");
                }
                return JobOutcome::complete({{"trackingNumber", *tracking},
                                             {"carrier", *carrier},
                                             {"trackingUrl", url != nullptr ? *url : json()}});
              });
}

constexpr std::array<Operation, 5> kOperations = {{
    {"check-availability", check_availability},
    {"reserve", reserve, "OUT_OF_STOCK"},
    {"release", release},
    {"handover", handover},
    {"ship", ship},
}};

}  // namespace

Result<TaskHandler> make_erp_adapter(const json& settings, const std::string& where) {
  return make_protocol_adapter(settings, where, "erp", kOperations);
}

}  // namespace ordo
