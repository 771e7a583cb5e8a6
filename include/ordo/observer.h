// Observer: watch what the engine does (logging, metrics, simulation statistics).
#pragma once

#include "ordo/history.h"

namespace ordo {

class Observer {
 public:
  virtual ~Observer() = default;
  // Called once per history event, in sequence order, after the command that produced it
  // has been committed, outside the engine's turn: it may read the engine; it must not add or remove observers.
  // Called on the thread of that command or of one that came after it, one call at a time.
  // An exception thrown here is caught and dropped, never propagated.
  virtual void on_event(const HistoryEvent& event) = 0;
};

}  // namespace ordo
