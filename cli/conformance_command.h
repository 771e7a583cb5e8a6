// `ordo conformance`: an event log checked against a process (token-based replay).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace ordo::cli {

class ConformanceCommand {
 public:
  explicit ConformanceCommand(CLI::App& app);
  ~ConformanceCommand();
  ConformanceCommand(const ConformanceCommand&) = delete;
  ConformanceCommand& operator=(const ConformanceCommand&) = delete;
  // After parsing: the exit status when `conformance` was given, else nullopt.
  std::optional<int> run() const;

 private:
  struct Args;
  std::unique_ptr<Args> args_;
  CLI::App* cmd_ = nullptr;
};

}  // namespace ordo::cli
