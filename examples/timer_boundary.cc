// A timer boundary event on a virtual clock: the payment confirmation never arrives, so
// after 30 minutes the "payment-timeout" boundary event interrupts "take-payment" and the
// order takes the payment-failed path.
//   Run: build/examples/example_timer_boundary processes/order-acceptance.bpmn
#include <iostream>

#include "ordo/ordo.h"

int main(int argc, char** argv) {
  const char* file = argc > 1 ? argv[1] : "processes/order-acceptance.bpmn";
  auto clock = std::make_shared<ordo::VirtualClock>(1'796'119'200'000);  // 2026-12-01T10:00Z
  ordo::EngineOptions options;
  options.clock = clock;
  ordo::Engine engine(options);
  if (!engine.deploy_file(file)) return 1;
  engine.register_handler("erp.check-availability", [](const ordo::Job&) {
    return ordo::JobOutcome::complete({{"available", true}});
  });
  engine.set_fallback_handler([](const ordo::Job&) { return ordo::JobOutcome::complete(); });

  auto id = engine.start("order-acceptance", {{"orderId", "A-2002"}}, "A-2002");
  if (!engine.run_until_idle()) return 1;
  std::cout << "waiting; next timer due in "
            << (**engine.next_timer_due() - clock->now_ms()) / 60'000 << " minutes\n";

  (void)engine.advance_clock(29 * 60'000);  // not yet
  std::cout << "after 29 min: " << ordo::to_string(engine.instance(id->id)->state) << "\n";
  (void)engine.advance_clock(60'000);  // the boundary timer fires; the handlers run
  auto info = engine.instance(id->id);
  std::cout << "after 30 min: " << ordo::to_string(info->state) << " at " << info->end_event
            << "\n";
  return info->end_event == "end-payment-failed" ? 0 : 1;
}
