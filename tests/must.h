// must(): the value of a read a test expects to succeed.
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "ordo/status.h"

namespace ordo::testing {

// The value of `r`, failing the test when it holds an error. By value, so
// `for (auto& x : must(engine.open_jobs()))` is safe.
template <class T>
T must(Result<T> r) {
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(*r) : T{};
}

}  // namespace ordo::testing
