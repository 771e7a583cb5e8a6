// Synthetic order logs: realistic records of past orders for replays (ordo gen-order-log,
// docs/simulation.md#the-order-log-format), written as CSV with a header.
//
// Each record is one order: when it was placed, who ordered (locale, time zone, channel,
// contact), what (items, total, currency), and what happened to it (in stock or not, payment
// approved or declined and how long its confirmation took, when it was shipped and delivered,
// whether a notification bounced). About 90% of orders are in stock and 5 to 8% of payments
// are declined; shipping and delivery happen on working days in the customer's time zone.
//
// Deterministic: the same options give the same bytes, on any machine with the same tz data.
// Each order draws from a random stream of its own (seeded by the seed and its number), so a
// record does not depend on how many came before it.
#pragma once

#include <cstdint>
#include <ostream>

#include "ordo/status.h"

namespace ordo {

struct OrderLogGenOptions {
  std::int64_t orders = 1000;
  std::uint64_t seed = 1;
  // Orders are placed from here on (2026-09-01T00:00:00Z: a quarter) over `days` days, more
  // by day than by night and fewer at weekends, in time order.
  std::int64_t start_ms = 1'788'220'800'000;
  std::int64_t days = 91;
};

// The CSV columns, in order (the header line).
inline constexpr const char* kOrderLogColumns =
    "orderId,createdAt,customerId,locale,timeZone,country,preferredChannel,email,phone,"
    "itemCount,total,currency,inStock,paymentOutcome,declineReason,paymentConfirmSeconds,"
    "shippedAt,deliveredAt,notificationBounced,cancelledAt,shipmentFailedAt";

// Writes the header and options.orders records, one line each, streamed. Errors: a bad
// option (kInvalidArgument), the stream failing (kIoError).
Status write_synthetic_order_log(std::ostream& out, const OrderLogGenOptions& options);

}  // namespace ordo
