// Which job types of the deployed processes nothing here handles, told once each.
//
// `ordo serve` and `ordo worker` never answer a job they have no adapter for: such a job
// waits for an external worker (GET /v1/jobs). So that a missing or misspelt adapter does not
// go unnoticed, the job types of every deployed version are compared with what the config
// handles, at start and after every deployment: each type nothing handles is warned about
// once (and listed by /health/ready and counted by /metrics), and each type the config names
// that no deployed process uses is warned about with the nearest type that is used.
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/adapters/adapters.h"
#include "ordo/engine.h"

namespace ordo::cli {

struct JobTypeHandling {
  std::set<std::string, std::less<>> adapters;   // a handler here (simulated ones included)
  std::set<std::string, std::less<>> external;   // "adapter": "external"
  bool simulate_rest = false;                    // --simulate: every other type is simulated
  std::string config_file;                       // named in warnings; empty: no config

  // Whether this process's own worker answers jobs of `type`.
  bool handled_here(std::string_view type) const {
    return external.count(type) == 0 && (simulate_rest || adapters.count(type) != 0);
  }
};

// What a config handles, with or without --simulate.
JobTypeHandling handling_of(const AdapterConfig& config, const std::string& config_file,
                            bool simulate_rest);

class JobTypeWatch {
 public:
  using Warn = std::function<void(const std::string&)>;
  JobTypeWatch(JobTypeHandling handling, Warn warn);

  // Reads the deployed processes through `engine` (which the caller keeps to itself for the
  // call) and warns about what is new since the last check. Thread-safe; cheap when nothing
  // was deployed since.
  Status check(const Engine& engine);
  // Job types of deployed processes that nothing here handles, sorted.
  std::vector<std::string> unhandled() const;
  const JobTypeHandling& handling() const noexcept { return handling_; }

 private:
  JobTypeHandling handling_;
  Warn warn_;
  mutable std::mutex mu_;
  std::set<std::pair<std::string, int>> seen_;      // deployments read
  std::vector<std::string> used_;                   // static job types of deployed processes
  bool computed_ = false;                           // some type is an expression
  std::set<std::string, std::less<>> unhandled_;    // warned about
  std::set<std::string, std::less<>> unused_told_;  // configured, unused, warned about
};

}  // namespace ordo::cli
