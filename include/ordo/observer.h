// Observer: watch what the engine does (logging, metrics, simulation statistics).
#pragma once

#include "ordo/history.h"

namespace ordo {

class Observer {
 public:
  virtual ~Observer() = default;
  // Called once per history event, in sequence order, after the command that produced it
  // has been committed. Called on the thread that ran the command; must not call back into
  // the engine. An exception thrown here is caught and dropped, never propagated.
  virtual void on_event(const HistoryEvent& event) = 0;
};

}  // namespace ordo
