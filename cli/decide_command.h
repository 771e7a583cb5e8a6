// `ordo decide`: a DMN decision, or decision service, evaluated with inputs given as JSON
// (ordo/decision.h).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace ordo::cli {

class DecideCommand {
 public:
  explicit DecideCommand(CLI::App& app);
  ~DecideCommand();
  DecideCommand(const DecideCommand&) = delete;
  DecideCommand& operator=(const DecideCommand&) = delete;
  // After parsing: the exit status when `decide` was given, else nullopt.
  std::optional<int> run() const;

 private:
  struct Args;
  std::unique_ptr<Args> args_;
  CLI::App* cmd_ = nullptr;
};

}  // namespace ordo::cli
