// What the notifications learn from: customer segments (from the orders each customer
// placed), A/B variants of a message (assigned per customer by a hash, kept once given), and
// engagement tracking (an open pixel and click redirects behind signed URLs).
// docs/engagement.md describes the settings; the Notifier applies them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "channels.h"
#include "ordo/adapters/notifications.h"
#include "ordo/status.h"

namespace ordo::notify {

// ---- segments ----

// How a segment's notifications differ (notifications.segments.bySegment.<segment>).
struct SegmentRules {
  std::map<std::string, std::vector<std::string>, std::less<>> rules;  // message -> channels
  std::optional<int> cap_per_hour;
  std::optional<QuietHours> quiet_hours;  // every channel's, for this segment
  std::vector<std::string> skip;          // messages this segment is not sent
};

// notifications.segments: the thresholds, or the DMN decision, and the rules per segment.
struct SegmentSettings {
  bool configured = false;
  int window_days = 90;        // orders counted in the last N days
  int new_within_days = 0;     // a first order at most this long ago still counts as new
  int active_min_orders = 3;   // this many orders in the window (before this one): active
  std::string decision;        // a deployed DMN decision that gives the segment instead
  std::map<std::string, SegmentRules, std::less<>> by_segment;

  const SegmentRules* rules_of(std::string_view segment) const {
    auto it = by_segment.find(segment);
    return it == by_segment.end() ? nullptr : &it->second;
  }
};

using ChannelRules = std::map<std::string, std::vector<std::string>, std::less<>>;
// Reads a rules object (message -> channels) at `where`, checking channels and templates.
using RulesReader = std::function<Status(const nlohmann::json&, const std::string&, ChannelRules&)>;
// notifications.segments; errors name the setting.
Status read_segments(const nlohmann::json& settings, const std::string& where,
                     const RulesReader& read_rules, SegmentSettings& out);

// A customer's orders before this one, as the delivery log keeps them.
struct CustomerHistory {
  std::int64_t orders = 0;     // every earlier order
  std::int64_t in_window = 0;  // earlier orders in the last window_days
  std::int64_t first_ms = 0;   // the first order's time; 0: none
};

// new: no earlier order, or the first at most new_within_days ago; active: at least
// active_min_orders in the window; occasional: the rest.
std::string classify(const SegmentSettings& settings, const CustomerHistory& history,
                     std::int64_t now_ms);
// What a decision (and the job's output `customerHistory`) sees: orders, ordersInWindow,
// windowDays, firstOrderDate (ISO date or null), daysSinceFirstOrder (or null).
nlohmann::json history_json(const SegmentSettings& settings, const CustomerHistory& history,
                            std::int64_t now_ms);

// ---- A/B variants ----

struct Variant {
  std::string name;         // as the report shows it: "control", "short"
  std::string template_id;  // the message whose templates it renders
};

// notifications.experiments.<id>: variants of one message, with weights per segment.
struct Experiment {
  std::string id;
  std::string message;
  std::vector<Variant> variants;
  // segment -> a weight per variant (in `variants` order); "default" for any other segment.
  // A segment with neither takes no part: it gets the message itself.
  std::map<std::string, std::vector<int>, std::less<>> weights;
  std::string outcome;  // the element whose completion counts as the order's success

  const std::vector<int>* weights_of(std::string_view segment) const;
};

// notifications.experiments: in every locale, each variant's template must exist for each
// channel the message itself has one for there (else a customer in that locale would get
// the variant in another language, and the comparison would be skewed); errors name the
// setting.
Status read_experiments(const nlohmann::json& settings, const std::string& where,
                        const std::vector<std::string>& channels,
                        const NotificationTemplates& templates,
                        std::map<std::string, Experiment, std::less<>>& by_message);

// The variant a customer falls in by the weights: SHA-256 of "<experiment>:<customer>" as a
// point in [0, 1), the same on every node and every run.
const Variant& pick_variant(const Experiment& experiment, const std::vector<int>& weights,
                            std::string_view customer);

// ---- engagement tracking ----

struct TrackingSettings {
  std::string base_url;  // where `ordo serve` is reachable from the customer: .../t/o/...
  std::string secret;    // signs the URLs
  std::vector<std::string> previous_secrets;  // still accepted (links sent before a rotation)
  bool opens = true;     // a pixel in HTML email
  bool clicks = true;    // links through the redirect
  std::vector<std::string> click_channels = {"email"};
  // The hosts whose links are tracked ("shop.example", or "*.dhl.de" for its subdomains);
  // links to others stay as written, so a URL that came in with the order's data (a
  // customer's name) never gets a signed redirect.
  std::vector<std::string> link_hosts;

  bool enabled() const { return !secret.empty(); }
  bool tracks_clicks(std::string_view channel) const;
  // A link that may go through the redirect: http(s), a host of link_hosts, no user info,
  // no white space or control characters, at most 2048 characters.
  bool trackable(std::string_view url) const;
};

// `shop_url`: notifications.shop.url, whose host linkHosts starts with.
Result<TrackingSettings> parse_tracking(const nlohmann::json& settings, const std::string& where,
                                        const std::string& shop_url);

// A tracking URL's token: base64url of [kind, dedupe key, channel, url] and a truncated
// HMAC-SHA256 of it with the secret. kind: "o" (open) or "c" (click).
struct TrackedEvent {
  std::string kind;
  std::string dedupe_key;
  std::string channel;
  std::string url;  // a click's destination
};
std::string tracking_token(std::string_view secret, const TrackedEvent& event);
// kUnauthenticated for a token that was not signed with the secret or a previous one
// (forged or edited) or whose link is not trackable (any more), kInvalidArgument for one
// that is not a token at all.
Result<TrackedEvent> read_tracking_token(const TrackingSettings& settings, std::string_view token);

// Rewrites the message's links (http and https URLs in the HTML's href attributes and in
// the text) through the click redirect, and adds the open pixel to the HTML.
void add_tracking(RenderedMessage& message, const TrackingSettings& settings,
                  std::string_view dedupe_key, std::string_view channel);

// Whether the customer opted out of tracking: optOut names "tracking" (or is true / "all"),
// or customer.tracking is false.
bool tracking_opted_out(const nlohmann::json& customer);

class DeliveryLog;
// engagement_report() of an open delivery log (report.cc).
Result<nlohmann::json> experiments_report(DeliveryLog& log, const EngagementReportOptions& options);

}  // namespace ordo::notify
