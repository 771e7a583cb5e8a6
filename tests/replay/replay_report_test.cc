// The replay's HTML report (render_replay_html): a well-formed, self-contained page with the
// KPIs compared across variants, cycle-time charts and each variant's coloured diagram.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <regex>
#include <string>

#include "ordo/loader.h"
#include "ordo/sim/replay.h"
#include "sim/replay_report_svg.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using Documents = std::vector<std::shared_ptr<const BpmnDocument>>;

std::shared_ptr<const BpmnDocument> order_acceptance() {
  static const auto document = [] {
    LoadResult r = load_bpmn_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
    EXPECT_TRUE(r.ok());
    return r.document;
  }();
  return document;
}

json histogram(std::initializer_list<int> counts) {
  json bins = json::array();
  const double edges[] = {60, 600, 3600, 86400};
  std::size_t i = 0;
  for (int n : counts) {
    bins.push_back({{"upTo", i < 4 ? json(edges[i]) : json(nullptr)}, {"count", n}});
    ++i;
  }
  return bins;
}

// A variant of the shipped process, as the header comment of ordo/sim/replay.h describes it.
json variant(const std::string& name, double p50, int incidents, int notifications,
             double availability) {
  json elements = json::object();
  for (const Element& e : order_acceptance()->processes.front()->elements) elements[e.id] = 180;
  elements["check-availability"] = 198;
  elements["order-received"] = 198;
  elements["payment-timeout"] = 0;
  json flows = json::object();
  for (const SequenceFlow& f : order_acceptance()->processes.front()->flows) flows[f.id] = 150;
  flows["f-timed-out"] = 0;
  json traces = json::array();
  for (int i = 0; i < 12; ++i) {
    traces.push_back({{"path", {"order-received", "check-availability", "gw-available"}},
                      {"count", 100 - i},
                      {"share", (100 - i) / 198.0}});
  }
  return {
      {"name", name},
      {"file", "processes/" + name + ".bpmn"},
      {"process", "order-acceptance"},
      {"processName", "Order acceptance"},
      {"orders", 198},
      {"endEvents", {{"end-delivered", 150}, {"(waiting)", 2}, {"(incident)", incidents}}},
      {"cycleTimes",
       {{"end",
         {{"count", 180},
          {"mean", 9.5},
          {"p50", p50},
          {"p90", 7200},
          {"p95", 8000},
          {"p99", 9000},
          {"max", 90000},
          {"histogram", histogram({3, 10, 20, 5, 1})}}},
        {"confirmation", {{"count", 170}, {"p50", 60}, {"histogram", histogram({100, 60, 10})}}}}},
      {"activities",
       {{{"id", "check-availability"},
         {"name", "Check availability"},
         {"kind", "serviceTask"},
         {"count", 198},
         {"orders", 198},
         {"waiting", {{"mean", 0}, {"p50", 0}, {"p90", 0}, {"max", 0}}},
         {"processing", {{"mean", 2}, {"p50", 2}, {"p90", 2.5}, {"max", 850}}}}}},
      {"elements", elements},
      {"flows", flows},
      {"traces", traces},
      {"rates",
       {{"availability", {{"numerator", 178}, {"denominator", 198}, {"rate", availability}}}}},
      {"notifications",
       {{"total", notifications},
        {"byChannel", {{"email", 400}}},
        {"byTemplate", {{"order-confirmation", 150}}},
        {"bounced", 3},
        {"perOrder", {{"mean", 2.5}, {"max", 4}}}}},
      {"sla",
       {{{"name", "confirmation within 1h"},
         {"milestone", "confirmation"},
         {"target", 3600},
         {"applicable", 170},
         {"met", 165},
         {"breached", 5},
         {"breachRate", 0.0294}}}},
      {"incidents", {{"total", incidents}, {"byType", {{"job-no-retries", incidents}}}}}};
}

json report(std::vector<json> variants) {
  return {{"ordoReplay", 1},
          {"orderLog", "orders.csv"},
          {"seed", 7},
          {"records",
           {{"read", 200},
            {"replayed", 198},
            {"skipped", 2},
            {"skippedRecords",
             {{{"line", 7}, {"message", "18 fields, the header has 19"}},
              {{"line", 9}, {"message", "bad date"}}}}}},
          {"variants", variants}};
}

json one_variant() {
  return report({variant("order-acceptance", 3600, 2, 500, 0.899)});
}
json two_variants() {
  return report({variant("current", 3600, 2, 500, 0.899), variant("proposed", 4000, 1, 520, 0.95)});
}

// The page parsed as XML; fails the test when it is not well-formed.
pugi::xml_document parse(const std::string& html) {
  pugi::xml_document doc;
  const pugi::xml_parse_result r = doc.load_string(html.c_str());
  EXPECT_TRUE(r) << r.description() << " at byte " << r.offset << ": "
                 << html.substr(
                        static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, r.offset - 80)), 160);
  return doc;
}

std::size_t count(const pugi::xml_node& root, const std::string& xpath) {
  return root.select_nodes(xpath.c_str()).size();
}

TEST(ReplayReportPage, IsWellFormedXmlWithNoNetworkAddress) {
  const std::string html =
      render_replay_html(two_variants(), {order_acceptance(), order_acceptance()});
  ASSERT_TRUE(html.starts_with("<!DOCTYPE html>"));
  const pugi::xml_document doc = parse(html);
  EXPECT_STREQ(doc.document_element().name(), "html");
  EXPECT_STREQ(doc.document_element().attribute("xmlns").value(), "http://www.w3.org/1999/xhtml");
  EXPECT_EQ(count(doc, "//script"), 0u);
  EXPECT_EQ(count(doc, "//link"), 0u);
  const std::string without_namespaces =
      std::regex_replace(html, std::regex(R"( xmlns(:\w+)?="[^"]*")"), "");
  EXPECT_EQ(without_namespaces.find("http://"), std::string::npos);
  EXPECT_EQ(without_namespaces.find("https://"), std::string::npos);
  EXPECT_EQ(without_namespaces.find("@import"), std::string::npos);
  EXPECT_LT(html.size(), 400u * 1024) << "a 28-shape process and two variants";
}

TEST(ReplayReportPage, HeaderShowsTheRunAndTheSkippedRecords) {
  const pugi::xml_document doc = parse(render_replay_html(one_variant(), {order_acceptance()}));
  const std::string run = doc.select_node("//dl[@class='run']").node().child_value("dd");
  EXPECT_EQ(run, "orders.csv");
  const std::string records = doc.select_node("//dl[@class='run']/dd[3]").node().text().get();
  EXPECT_EQ(records, "200 read, 198 replayed, 2 skipped");
  EXPECT_EQ(count(doc, "//details[@class='skipped']//tbody/tr"), 2u);
  EXPECT_STREQ(
      doc.select_node("//details[@class='skipped']//tbody/tr[1]/td[2]").node().text().get(),
      "18 fields, the header has 19");
}

TEST(ReplayReportDiagram, DrawsEveryShapeOfTheDiagramWithItsCount) {
  const pugi::xml_document doc = parse(render_replay_html(one_variant(), {order_acceptance()}));
  ASSERT_EQ(count(doc, "//svg[@class='diagram']"), 1u);
  const pugi::xml_node svg = doc.select_node("//svg[@class='diagram']").node();
  const auto& shapes = order_acceptance()->diagrams->front().shapes;
  EXPECT_EQ(count(svg, ".//g[@data-element]"), shapes.size());
  for (const DiagramShape& s : shapes) {
    EXPECT_EQ(count(svg, ".//g[@data-element='" + s.element_id + "']"), 1u) << s.element_id;
  }
  const pugi::xml_node check = svg.select_node(".//g[@data-element='check-availability']").node();
  EXPECT_STREQ(check.attribute("class").value(), "node serviceTask");
  EXPECT_STREQ(check.select_node("g[@class='badge']/text").node().text().get(), "198");
  EXPECT_STREQ(check.select_node("rect").node().attribute("fill").value(),
               sim::report::heat_colour(1.0).c_str())
      << "the most-visited element has the strongest colour";
  EXPECT_STREQ(check.select_node("text/tspan").node().text().get(), "Check") << "wrapped";

  const pugi::xml_node timeout = svg.select_node(".//g[@data-element='payment-timeout']").node();
  EXPECT_STREQ(timeout.attribute("class").value(), "node boundaryEvent unvisited");
  EXPECT_STREQ(timeout.select_node("g[@class='badge zero']/text").node().text().get(), "0");
  EXPECT_NE(svg.attribute("viewBox").value(), std::string());
}

TEST(ReplayReportDiagram, ColoursFollowTheCountOnOneScaleForAllVariants) {
  json first = variant("current", 3600, 2, 500, 0.899);
  json second = variant("proposed", 4000, 1, 520, 0.95);
  second["elements"]["check-availability"] = 396;  // the largest count of the page
  second["elements"]["reserve-stock"] = 99;
  const pugi::xml_document doc =
      parse(render_replay_html(report({first, second}), {order_acceptance(), order_acceptance()}));
  auto fill = [&](int v, const std::string& id) {
    return std::string(doc.select_node(("//section[@id='variant-" + std::to_string(v) +
                                        "']//g[@data-element='" + id + "']/rect")
                                           .c_str())
                           .node()
                           .attribute("fill")
                           .value());
  };
  EXPECT_EQ(fill(1, "check-availability"), sim::report::heat_colour(1.0));
  EXPECT_EQ(fill(0, "check-availability"), sim::report::heat_colour(0.5));
  EXPECT_EQ(fill(1, "reserve-stock"), sim::report::heat_colour(0.25));
  EXPECT_NE(sim::report::heat_colour(0.25), sim::report::heat_colour(0.5));
}

TEST(ReplayReportPage, ToleratesAReportWithMissingParts) {
  for (const json& r : {json::object(), json::array(), json{{"variants", {{{"name", "x"}}}}},
                        json{{"variants",
                              {{{"cycleTimes", {{"end", {{"histogram", 3}}}}},
                                {"traces", {{{"path", 1}}}},
                                {"sla", {1, 2}}}}}}}) {
    const std::string html = render_replay_html(r, {nullptr});
    parse(html);
    EXPECT_NE(html.find("Replay report"), std::string::npos) << r.dump();
  }
}

TEST(ReplayReportDiagram, ShapesFollowTheElementKind) {
  const pugi::xml_document doc = parse(render_replay_html(one_variant(), {order_acceptance()}));
  const pugi::xml_node svg = doc.select_node("//svg[@class='diagram']").node();
  EXPECT_TRUE(svg.select_node(".//g[@data-element='order-received']/circle"));
  EXPECT_TRUE(svg.select_node(".//g[@data-element='end-delivered']/circle[@class='shape end']"));
  EXPECT_TRUE(svg.select_node(".//g[@data-element='gw-available']/polygon"));
  EXPECT_TRUE(svg.select_node(".//g[@data-element='fork-fulfil']/path[@class='marker']"));
  EXPECT_TRUE(svg.select_node(".//g[@data-element='take-payment']/rect[@class='shape expanded']"));
  EXPECT_EQ(count(svg, ".//g[@data-element='payment-declined']/circle"), 2u) << "double ring";
}

TEST(ReplayReportDiagram, FlowsAreArrowsWithTheirCounts) {
  const pugi::xml_document doc = parse(render_replay_html(one_variant(), {order_acceptance()}));
  const pugi::xml_node svg = doc.select_node("//svg[@class='diagram']").node();
  EXPECT_EQ(count(svg, ".//g[@data-flow]"), order_acceptance()->diagrams->front().edges.size());
  const pugi::xml_node start = svg.select_node(".//g[@data-flow='f-start']").node();
  EXPECT_STREQ(start.attribute("class").value(), "flow");
  EXPECT_STREQ(start.select_node("text[@class='flow-count']").node().text().get(), "150");
  EXPECT_STREQ(start.child("polyline").attribute("marker-end").value(), "url(#ordo-arrow-0)");
  EXPECT_TRUE(svg.select_node(".//marker[@id='ordo-arrow-0']"));
  EXPECT_STREQ(svg.select_node(".//g[@data-flow='f-timed-out']").node().attribute("class").value(),
               "flow untaken");
}

TEST(ReplayReportDiagram, EachVariantHasItsOwnDiagramWithUniqueIds) {
  const pugi::xml_document doc =
      parse(render_replay_html(two_variants(), {order_acceptance(), order_acceptance()}));
  EXPECT_EQ(count(doc, "//section[@class='variant']//svg[@class='diagram']"), 2u);
  EXPECT_TRUE(doc.select_node("//section[@id='variant-1']//marker[@id='ordo-arrow-1']"));
  EXPECT_EQ(count(doc, "//*[@id='ordo-arrow-0']"), 1u);
}

TEST(ReplayReportDiagram, DocumentWithoutDiagramInterchangeSaysSo) {
  LoadResult r = load_bpmn(process(
      R"(<startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="e"/><endEvent id="e"/>)"));
  ASSERT_TRUE(r.ok());
  json v = variant("bare", 60, 0, 0, 1);
  v["process"] = "p";
  const pugi::xml_document doc = parse(render_replay_html(report({v}), {r.document}));
  EXPECT_EQ(count(doc, "//svg[@class='diagram']"), 0u);
  EXPECT_TRUE(doc.select_node("//p[@class='no-diagram']"));
  EXPECT_EQ(count(doc, "//svg[@class='chart']"), 2u) << "the rest of the report is there";

  const pugi::xml_document missing = parse(render_replay_html(one_variant(), {}));
  EXPECT_TRUE(missing.select_node("//p[@class='no-diagram']"));
}

TEST(ReplayReportCharts, OneBarPerBinAndVariantWithLabelledEdges) {
  const pugi::xml_document doc =
      parse(render_replay_html(two_variants(), {order_acceptance(), order_acceptance()}));
  ASSERT_EQ(count(doc, "//figure[@class='chart']"), 2u) << "end and confirmation";
  const pugi::xml_node end = doc.select_node("//figure[@data-cycle='end']").node();
  EXPECT_EQ(count(end, ".//rect[@class='bar']"), 10u) << "5 bins, 2 variants";
  EXPECT_EQ(count(end, ".//rect[@class='bar'][@data-variant='1']"), 5u);
  EXPECT_STREQ(end.select_node(".//rect[@data-variant='0'][@data-bin='2']")
                   .node()
                   .attribute("data-count")
                   .value(),
               "20");
  std::vector<std::string> ticks;
  for (const auto& t : end.select_nodes(".//text[@class='tick'][@transform]")) {
    ticks.push_back(t.node().text().get());
  }
  EXPECT_EQ(ticks, (std::vector<std::string>{"\u2264 1m", "\u2264 10m", "\u2264 1h", "\u2264 1d",
                                             "> 1d"}));
  EXPECT_TRUE(end.select_node(".//p[@class='legend']")) << "several variants: a legend";
  const pugi::xml_node confirmation =
      doc.select_node("//figure[@data-cycle='confirmation']").node();
  EXPECT_EQ(count(confirmation, ".//rect[@class='bar']"), 6u);
  EXPECT_STREQ(
      doc.select_node("//figure[@class='chart'][1]").node().attribute("data-cycle").value(), "end")
      << "the end-to-end cycle time comes first";
}

// The difference cell of `kpi` in the second variant's column: its text and class.
std::pair<std::string, std::string> delta(const pugi::xml_document& doc, const std::string& kpi) {
  const pugi::xml_node span =
      doc.select_node(
             ("//tr[@data-kpi='" + kpi + "']/td[@data-variant='1']/span[contains(@class,'delta')]")
                 .c_str())
          .node();
  return {span.text().get(), span.attribute("class").value()};
}

TEST(ReplayReportKpis, DifferencesToTheBaselineAreHighlighted) {
  const pugi::xml_document doc =
      parse(render_replay_html(two_variants(), {order_acceptance(), order_acceptance()}));
  EXPECT_STREQ(
      doc.select_node("//table[@class='kpi']/thead/tr/th[@data-variant='1']").node().text().get(),
      "proposed");
  EXPECT_STREQ(doc.select_node("//tr[@data-kpi='cycleTimes.end.p50']/td[@data-variant='0']")
                   .node()
                   .text()
                   .get(),
               "1h");
  EXPECT_STREQ(doc.select_node("//tr[@data-kpi='cycleTimes.end.p50']/td[@data-variant='1']")
                   .node()
                   .text()
                   .get(),
               "1h 6m ");
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(delta(doc, "cycleTimes.end.p50"), (P{"+6m 40s (+11.1%)", "delta worse"}));
  EXPECT_EQ(delta(doc, "incidents.total"), (P{"\u22121 (\u221250.0%)", "delta better"}));
  EXPECT_EQ(delta(doc, "endEvents.(incident)"), (P{"\u22121 (\u221250.0%)", "delta better"}));
  EXPECT_EQ(delta(doc, "rates.availability"), (P{"+5.1 pp", "delta better"}));
  EXPECT_EQ(delta(doc, "notifications.total"), (P{"+20 (+4.0%)", "delta changed"}));
  EXPECT_EQ(delta(doc, "cycleTimes.end.p90"), (P{"\u00b10", "delta same"}));
  EXPECT_EQ(delta(doc, "orders"), (P{"\u00b10", "delta same"}));
  EXPECT_FALSE(doc.select_node("//tr[@data-kpi='orders']/td[@data-variant='0']/span"))
      << "the baseline has no difference";
}

TEST(ReplayReportKpis, ListsEveryFigureOfTheReport) {
  const pugi::xml_document doc = parse(render_replay_html(one_variant(), {order_acceptance()}));
  for (const char* kpi :
       {"orders", "endEvents.end-delivered", "endEvents.(waiting)", "cycleTimes.end.p99",
        "cycleTimes.end.mean", "cycleTimes.confirmation.p50", "rates.availability",
        "notifications.perOrder.mean", "notifications.byChannel.email",
        "notifications.byTemplate.order-confirmation", "notifications.bounced",
        "sla.confirmation within 1h.breached", "sla.confirmation within 1h.breachRate",
        "incidents.byType.job-no-retries"}) {
    EXPECT_TRUE(doc.select_node(("//tr[@data-kpi='" + std::string(kpi) + "']").c_str())) << kpi;
  }
  const pugi::xml_node delivered =
      doc.select_node("//tr[@data-kpi='endEvents.end-delivered']").node();
  EXPECT_STREQ(delivered.child("th").text().get(), "Order delivered (end-delivered)");
  EXPECT_STREQ(delivered.select_node("td/span[@class='note']").node().text().get(), "75.8%");
  EXPECT_STREQ(doc.select_node("//tr[@data-kpi='rates.availability']/td").node().text().get(),
               "89.9% ");
  EXPECT_STREQ(doc.select_node("//tr[@data-kpi='cycleTimes.end.max']/td").node().text().get(),
               "1d 1h");
}

TEST(ReplayReportTables, ActivitiesAndTheTopTenPathsWithElementNames) {
  const pugi::xml_document doc = parse(render_replay_html(one_variant(), {order_acceptance()}));
  const pugi::xml_node activity =
      doc.select_node("//tr[@data-activity='check-availability']").node();
  ASSERT_TRUE(activity);
  EXPECT_STREQ(activity.select_node("td[2]").node().text().get(), "Check availability");
  EXPECT_STREQ(activity.select_node("td[last()]").node().text().get(), "14m 10s")
      << "processing max 850 s";
  EXPECT_STREQ(activity.select_node("td[last()-2]").node().text().get(), "2 s");
  EXPECT_EQ(count(doc, "//table[@class='traces']/tbody/tr"), 10u) << "12 paths, the top 10";
  EXPECT_STREQ(doc.select_node("//table[@class='traces']//td[@class='path']").node().text().get(),
               "Order received \u2192 Check availability \u2192 Available?");
}

TEST(ReplayReportPage, EscapesHostileNames) {
  LoadResult r = load_bpmn(bpmn(R"(<process id="p" isExecutable="true">
  <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
  <task id="t" name="&lt;/text&gt;&lt;script&gt; &amp; &quot;x&quot; 'y'"/>
  <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/>
</process>
<bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
  <bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="0" y="0" width="36" height="36"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="t_di" bpmnElement="t"><dc:Bounds x="100" y="-20" width="100" height="80"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="e_di" bpmnElement="e"><dc:Bounds x="260" y="0" width="36" height="36"/></bpmndi:BPMNShape>
  <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="36" y="18"/><di:waypoint x="100" y="18"/></bpmndi:BPMNEdge>
</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>)"));
  ASSERT_TRUE(r.ok());
  json v = variant("<b>\"v\" & 'w'", 60, 0, 0, 1);
  v["process"] = "p";
  v["elements"] = {{"s", 3}, {"t", 2}, {"e", 1}};
  v["traces"] = {{{"path", {"s", "t", "e"}}, {"count", 3}, {"share", 1}}};
  json rep = report({v});
  rep["orderLog"] = "<&\">.csv";
  rep["records"]["skippedRecords"][0]["message"] = "bad \x01 byte </td>";
  const std::string html = render_replay_html(rep, {r.document});
  const pugi::xml_document doc = parse(html);
  EXPECT_EQ(count(doc, "//script"), 0u);
  EXPECT_STREQ(doc.select_node("//dl[@class='run']/dd").node().text().get(), "<&\">.csv");
  EXPECT_STREQ(doc.select_node("//title").node().text().get(), "Replay report: <&\">.csv");
  EXPECT_STREQ(doc.select_node("//section[@id='variant-0']/h2").node().text().get(),
               "<b>\"v\" & 'w'");
  const pugi::xml_node task = doc.select_node("//g[@data-element='t']").node();
  ASSERT_TRUE(task);
  EXPECT_STREQ(task.child("title").text().get(), "</text><script> & \"x\" 'y' (t): 2 orders");
  EXPECT_GE(count(task, "text/tspan"), 2u) << "wrapped to the shape's width";
  EXPECT_STREQ(doc.select_node("//td[@class='path']").node().text().get(),
               "s \u2192 </text><script> & \"x\" 'y' \u2192 e");
  EXPECT_STREQ(doc.select_node("//details//tbody/tr[1]/td[2]").node().text().get(),
               "bad   byte </td>");
}

TEST(ReplayReportPage, SameInputsGiveTheSameBytes) {
  const Documents documents = {order_acceptance(), order_acceptance()};
  const std::string first = render_replay_html(two_variants(), documents);
  EXPECT_EQ(first, render_replay_html(two_variants(), documents));
  EXPECT_EQ(first, render_replay_html(json::parse(two_variants().dump()), documents));
}

TEST(ReplayReportFormat, DurationsReadLikePeopleWriteThem) {
  using sim::report::human_duration;
  EXPECT_EQ(human_duration(0), "0 s");
  EXPECT_EQ(human_duration(0.85), "850 ms");
  EXPECT_EQ(human_duration(2.5), "2.5 s");
  EXPECT_EQ(human_duration(42.4), "42 s");
  EXPECT_EQ(human_duration(845), "14m 5s");
  EXPECT_EQ(human_duration(3600), "1h");
  EXPECT_EQ(human_duration(12000), "3h 20m");
  EXPECT_EQ(human_duration(2 * 86400 + 3 * 3600 + 59), "2d 3h");
  EXPECT_EQ(human_duration(-190), "\u22123m 10s");
}


TEST(ReplayReportHeadline, NamesTheClearDifferencesWithTheirIntervals) {
  json current = variant("current", 3600, 2, 500, 0.899);
  json proposed = variant("proposed", 3600, 1, 520, 0.99);
  proposed["rates"]["availability"]["numerator"] = 196;  // 196 of 198 against 178 of 198
  current["cycleTimes"]["end"]["mean"] = 9000;
  current["cycleTimes"]["end"]["sd"] = 100;
  proposed["cycleTimes"]["end"]["mean"] = 5000;
  proposed["cycleTimes"]["end"]["sd"] = 100;
  const pugi::xml_document doc =
      parse(render_replay_html(report({current, proposed}), {order_acceptance(), order_acceptance()}));
  ASSERT_EQ(count(doc, "//section[@id='headline']"), 1u);
  const pugi::xml_node rate = doc.select_node("//ul[@class='headline']/li[@data-kpi='rates.availability']").node();
  ASSERT_TRUE(rate);
  EXPECT_STREQ(rate.attribute("class").value(), "better");
  const std::string all_rate = [&] {
    std::string t;
    for (pugi::xml_node n = rate.first_child(); n; n = n.next_sibling()) {
      t += n.type() == pugi::node_pcdata ? n.value() : n.text().get();
    }
    return t;
  }();
  EXPECT_NE(all_rate.find("proposed is better on availability: +9.1 pp (95%: +"), std::string::npos)
      << all_rate;
  const pugi::xml_node mean =
      doc.select_node("//ul[@class='headline']/li[@data-kpi='cycleTimes.end.mean']").node();
  ASSERT_TRUE(mean);
  EXPECT_STREQ(mean.attribute("class").value(), "better");
  // One incident against two, of 198 orders: no clear difference, so not named.
  EXPECT_EQ(count(doc, "//ul[@class='headline']/li[@data-kpi='endEvents.(incident)']"), 0u);
  EXPECT_EQ(count(doc, "//ul[@class='headline']/li[@class='same']"), 1u);
  // An end event the variant never reached counts 0 there; "unpaid" is a failure, fewer of
  // them better.
  current["endEvents"]["(incident)"] = 40;
  proposed["endEvents"].erase("(incident)");
  current["endEvents"]["unpaid"] = 60;
  proposed["endEvents"]["unpaid"] = 10;
  const pugi::xml_document again =
      parse(render_replay_html(report({current, proposed}), {order_acceptance(), order_acceptance()}));
  for (const char* kpi : {"endEvents.(incident)", "endEvents.unpaid"}) {
    const pugi::xml_node li =
        again.select_node(("//ul[@class='headline']/li[@data-kpi='" + std::string(kpi) + "']").c_str()).node();
    ASSERT_TRUE(li) << kpi;
    EXPECT_STREQ(li.attribute("class").value(), "better") << kpi;
  }
  // One variant: nothing to compare.
  EXPECT_EQ(count(parse(render_replay_html(one_variant(), {order_acceptance()})),
                  "//section[@id='headline']"),
            0u);
}

TEST(ReplayReportCharts, BinsThatDifferByOrdersOfMagnitudeGetALogScaleAndLabelsThatDoNotCollide) {
  json big = variant("current", 3600, 2, 500, 0.899);
  big["cycleTimes"]["end"]["histogram"] = histogram({123456, 48000, 950, 3, 1});
  json also = big;
  also["name"] = "proposed";
  json third = big;
  third["name"] = "third";
  const std::string html = render_replay_html(report({big, also, third}),
                                              {order_acceptance(), order_acceptance(), order_acceptance()});
  const pugi::xml_document doc = parse(html);
  const pugi::xml_node chart =
      doc.select_node("//figure[@data-cycle='end']//*[local-name()='svg']").node();
  ASSERT_TRUE(chart);
  EXPECT_STREQ(chart.attribute("class").value(), "chart log");
  EXPECT_NE(html.find("orders (log scale)"), std::string::npos);
  // Every bar with orders is seen, the one of a single order too.
  for (const pugi::xpath_node& b : chart.select_nodes(".//*[local-name()='rect'][@class='bar']")) {
    const double n = b.node().attribute("data-count").as_double();
    const double h = b.node().attribute("height").as_double();
    EXPECT_EQ(n > 0, h > 0) << n;
  }
  // Short counts, upright over bars narrower than them: no two labels share space.
  std::size_t labels = 0;
  for (const pugi::xpath_node& t : chart.select_nodes(".//*[local-name()='text'][@class='count']")) {
    ++labels;
    const std::string text = t.node().text().get();
    EXPECT_LE(text.size(), 4u) << text;
    EXPECT_NE(std::string(t.node().attribute("transform").value()).find("rotate(-90)"),
              std::string::npos)
        << text;
  }
  EXPECT_EQ(labels, 15u);
  EXPECT_NE(html.find(">123k<"), std::string::npos);
  // Asked for linear, linear it is.
  ReplayReportOptions linear;
  linear.chart_scale = ReplayReportOptions::Scale::kLinear;
  const std::string flat = render_replay_html(report({big}), {order_acceptance()}, linear);
  EXPECT_EQ(flat.find("orders (log scale)"), std::string::npos);
  // Bins of a similar size stay linear by default.
  EXPECT_EQ(render_replay_html(one_variant(), {order_acceptance()}).find("log scale"),
            std::string::npos);
}

TEST(ReplayReportPaths, LeaveOutElementsWithoutANameInside) {
  json v = variant("current", 3600, 2, 500, 0.899);
  v["traces"] = json::array(
      {{{"path", {"order-received", "payment-start", "charge-payment", "end-delivered"}},
        {"count", 150},
        {"share", 0.75}}});
  const pugi::xml_document doc = parse(render_replay_html(report({v}), {order_acceptance()}));
  const std::string path = doc.select_node("//table[@class='traces']//td[@class='path']").node().text().get();
  EXPECT_EQ(path.find("payment-start"), std::string::npos) << path;
  EXPECT_NE(path.find("Order received"), std::string::npos) << path;
  EXPECT_NE(path.find("Charge payment"), std::string::npos) << path;
  EXPECT_EQ(count(doc, "//section[@class='variant']//p[@class='note']"), 1u);
}


TEST(ReplayReportDifference, OneDiagramShowsWhereTheVariantSendsMoreOrFewerOrders) {
  json first = variant("current", 3600, 2, 500, 0.899);
  json second = variant("proposed", 4000, 1, 520, 0.95);
  second["elements"]["check-availability"] = 396;
  second["elements"]["reserve-stock"] = 99;
  second["flows"]["f-timed-out"] = 12;
  const pugi::xml_document doc =
      parse(render_replay_html(report({first, second}), {order_acceptance(), order_acceptance()}));
  ASSERT_EQ(count(doc, "//section[@class='difference']"), 1u);
  const pugi::xml_node svg = doc.select_node("//section[@class='difference']//svg[@class='diagram']").node();
  ASSERT_TRUE(svg);
  const auto element = [&](const std::string& id) {
    return svg.select_node((".//g[@data-element='" + id + "']").c_str()).node();
  };
  EXPECT_STREQ(element("check-availability").attribute("data-difference").value(), "+198");
  EXPECT_STREQ(element("reserve-stock").attribute("data-difference").value(), "\u221281");
  EXPECT_STREQ(element("take-payment").attribute("data-difference").value(), "\u00b10");
  EXPECT_STREQ(element("check-availability").select_node("rect").node().attribute("fill").value(),
               sim::report::difference_colour(1.0).c_str())
      << "the largest change has the strongest colour";
  EXPECT_STREQ(element("reserve-stock").select_node("g/text").node().text().get(), "\u221281");
  const pugi::xml_node timed_out = svg.select_node(".//g[@data-flow='f-timed-out']").node();
  EXPECT_NE(std::string(timed_out.attribute("class").value()).find("more"), std::string::npos);
  // A single variant has nothing to differ from.
  EXPECT_EQ(count(parse(render_replay_html(one_variant(), {order_acceptance()})),
                  "//section[@class='difference']"),
            0u);
}

}  // namespace
}  // namespace ordo::testing
