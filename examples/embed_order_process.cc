// Embedding the shipped order process with in-process task handlers.
//
// Shows: deploying a file, registering handlers by job type, starting an instance with an
// order as its variables, driving it, correlating the payment and delivery messages, and
// reading the outcome.
//   Run: build/examples/example_embed_order_process processes/order-acceptance.bpmn
#include <iostream>

#include "ordo/ordo.h"

int main(int argc, char** argv) {
  const char* file = argc > 1 ? argv[1] : "processes/order-acceptance.bpmn";
  ordo::Engine engine;  // system clock, in-memory state
  auto deployed = engine.deploy_file(file);
  if (!deployed) {
    std::cerr << deployed.status().to_string() << "\n";
    return 1;
  }

  engine.register_handler("erp.check-availability", [](const ordo::Job& job) {
    std::cout << "checking stock for " << job.business_key() << "\n";
    return ordo::JobOutcome::complete({{"available", true}});
  });
  engine.register_handler("payment.charge", [](const ordo::Job& job) {
    // Pass the idempotency key to the payment provider so a retry never charges twice.
    std::cout << "charging " << job.variable("total")->dump() << " with key "
              << job.idempotency_key() << "\n";
    return ordo::JobOutcome::complete({{"paymentId", "PAY-1"}});
  });
  engine.register_handler("notify.send", [](const ordo::Job& job) {
    std::cout << "sending " << job.header("template") << " by " << job.header("channel") << "\n";
    return ordo::JobOutcome::complete();
  });
  // Reservation, hand-over, shipping: complete with no output.
  engine.set_fallback_handler([](const ordo::Job&) { return ordo::JobOutcome::complete(); });

  nlohmann::json order = {{"orderId", "A-1001"},
                          {"total", 129.90},
                          {"customer", {{"email", "anna@example.de"}, {"locale", "de"}}}};
  auto id = engine.start("order-acceptance", order, "A-1001");
  if (!id) {
    std::cerr << id.status().to_string() << "\n";
    return 1;
  }
  if (!engine.run_until_idle()) return 1;  // runs handlers until the instance waits for the payment message

  (void)engine.publish_message("payment-confirmed", "A-1001", {{"paymentStatus", "approved"}});
  if (!engine.run_until_idle()) return 1;
  (void)engine.publish_message("order-delivered", "A-1001");
  if (!engine.run_until_idle()) return 1;

  auto info = engine.instance(id->id);
  std::cout << "instance " << id->id << " is " << ordo::to_string(info->state) << " at "
            << info->end_event << "\n";
  return info->state == ordo::InstanceState::kCompleted ? 0 : 1;
}
