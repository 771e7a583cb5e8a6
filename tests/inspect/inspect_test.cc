#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace ordo {
namespace {

std::shared_ptr<const BpmnDocument> shipped() {
  LoadResult r = load_bpmn_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
  EXPECT_TRUE(r.ok());
  return r.document;
}

TEST(Outline, ListsElementsFlowsTaskTypesMessagesAndTimers) {
  std::string text = outline_text(*shipped());
  for (const char* expected :
       {"process order-acceptance  \"Order acceptance\"", "service task", "type payment.charge",
        "header template = order-confirmation", "-> notify-unavailable  \"No\"  (default)",
        "when =available = true", "message payment-confirmed, key =orderId",
        "timer duration PT30M, interrupting", "attached to take-payment",
        "messages:   payment-confirmed, order-delivered", "errors:     PAYMENT_DECLINED"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
  // The subprocess's children are indented under it.
  EXPECT_NE(text.find("\n    service task              charge-payment"), std::string::npos) << text;
}

TEST(Outline, FollowsThePathFromTheStart) {
  std::string text = outline_text(*shipped());
  EXPECT_LT(text.find("order-received"), text.find("check-availability"));
  EXPECT_LT(text.find("check-availability"), text.find("reserve-stock"));
  EXPECT_LT(text.find("ship-order"), text.find("end-delivered"));
}

TEST(OutlineJson, IsTheModelAsData) {
  auto j = nlohmann::json::parse(outline_json(*shipped()));
  ASSERT_EQ(j["processes"].size(), 1u);
  const auto& p = j["processes"][0];
  EXPECT_EQ(p["id"], "order-acceptance");
  bool found_boundary = false;
  for (const auto& e : p["elements"]) {
    EXPECT_TRUE(e.contains("line"));
    if (e["id"] == "payment-timeout") {
      found_boundary = true;
      EXPECT_EQ(e["kind"], "boundaryEvent");
      EXPECT_EQ(e["attachedTo"], "take-payment");
      EXPECT_EQ(e["event"]["timer"]["text"], "PT30M");
    }
  }
  EXPECT_TRUE(found_boundary);
  EXPECT_EQ(p["flows"].size(), 27u);
  EXPECT_NE(std::find(p["taskTypes"].begin(), p["taskTypes"].end(), "erp.ship"),
            p["taskTypes"].end());
  EXPECT_GT(j["diagram"]["shapes"].get<int>(), 0);
}

TEST(OutlineDot, IsAGraphvizDigraphWithEveryFlow) {
  std::string dot = outline_dot(*shipped());
  EXPECT_EQ(dot.rfind("digraph ", 0), 0u);
  EXPECT_NE(dot.find("subgraph \"cluster_order-acceptance/take-payment\""), std::string::npos);
  std::size_t edges = 0;
  for (std::size_t pos = 0; (pos = dot.find(" -> ", pos)) != std::string::npos; ++pos) ++edges;
  EXPECT_EQ(edges, 27u + 2u);  // flows plus the two boundary attachments
  // Events and gateways are drawn small, their names beside them, as modelers draw them.
  EXPECT_NE(dot.find("\"order-acceptance/order-received\" [shape=circle, width=0.3, "
                     "fixedsize=true, label=\"\", xlabel=\"Order received"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("forcelabels=true"), std::string::npos);
}

TEST(OutlineDot, QuotesIdsSafely) {
  LoadResult r =
      load_bpmn(testing::process("<startEvent id=\"s\" name='say \"hi\"'/><endEvent id=\"e\"/>"
                                 "<sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"e\"/>"));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(outline_dot(*r.document).find("say \\\"hi\\\""), std::string::npos);
}

// Regression (found by the loader fuzzer): invalid UTF-8 in a name made JSON output throw.
TEST(OutlineJson, InvalidUtf8IsReplacedNotThrown) {
  std::string xml = testing::process(
      "<startEvent id=\"s\" name=\"bad \xC3\x28 byte\"/><endEvent id=\"e\"/>"
      "<sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"e\"/><task id=\"\xFF\"/>");
  LoadResult r = load_bpmn(xml);
  ASSERT_TRUE(r.document);
  std::string json;
  ASSERT_NO_THROW(json = outline_json(*r.document));
  EXPECT_NE(json.find("bad \xEF\xBF\xBD( byte"), std::string::npos);  // U+FFFD
  ASSERT_FALSE(r.diagnostics.empty());
  ASSERT_NO_THROW(diagnostics_to_json(r.diagnostics));
  EXPECT_NO_THROW(nlohmann::json::parse(diagnostics_to_json(r.diagnostics)));
}

}  // namespace
}  // namespace ordo
