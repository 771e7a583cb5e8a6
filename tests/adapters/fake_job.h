// What a handler sees of a job, without an engine: for adapter tests.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/task_handler.h"

namespace ordo::testing {

class FakeJob final : public Job {
 public:
  explicit FakeJob(nlohmann::json vars, std::string idempotency_key = "order:3:2")
      : vars_(std::move(vars)), idempotency_key_(std::move(idempotency_key)) {}
  JobKey key() const noexcept override { return 7; }
  InstanceId instance() const noexcept override { return 3; }
  std::string_view type() const noexcept override { return type_; }
  std::string_view process_id() const noexcept override { return "order"; }
  std::string_view element_id() const noexcept override { return element_; }
  std::string_view business_key() const noexcept override { return business_key_; }
  std::string_view idempotency_key() const noexcept override { return idempotency_key_; }
  int attempt() const noexcept override { return attempt_; }
  int retries_left() const noexcept override { return retries_; }
  std::int64_t now_ms() const noexcept override { return now_ms_; }
  std::span<const TaskHeader> headers() const noexcept override { return headers_; }
  const nlohmann::json* variable(std::string_view name) const override {
    auto it = vars_.find(name);
    return it == vars_.end() ? nullptr : &*it;
  }
  nlohmann::json variables() const override { return vars_; }

  nlohmann::json& vars() { return vars_; }
  FakeJob& with_header(std::string key, std::string value) {
    headers_.push_back(TaskHeader{std::move(key), std::move(value)});
    return *this;
  }
  FakeJob& with_retries(int left) {
    retries_ = left;
    return *this;
  }
  FakeJob& with_attempt(int n) {
    attempt_ = n;
    return *this;
  }
  FakeJob& at(std::int64_t now_ms) {
    now_ms_ = now_ms;
    return *this;
  }
  FakeJob& keyed(std::string idempotency_key) {
    idempotency_key_ = std::move(idempotency_key);
    return *this;
  }
  FakeJob& business(std::string key) {
    business_key_ = std::move(key);
    return *this;
  }

 private:
  nlohmann::json vars_;
  std::string type_ = "erp.check";
  std::string element_ = "check";
  std::string business_key_ = "A-1";
  std::string idempotency_key_;
  int attempt_ = 1;
  int retries_ = 3;
  std::int64_t now_ms_ = 1'796'119'200'000;  // 2026-12-01T10:00:00Z
  std::vector<TaskHeader> headers_;
};

}  // namespace ordo::testing
