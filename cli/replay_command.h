// `ordo replay`: history through process variants in virtual time (ordo/sim/replay.h).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace ordo::cli {

class ReplayCommand {
 public:
  explicit ReplayCommand(CLI::App& app);
  ~ReplayCommand();
  ReplayCommand(const ReplayCommand&) = delete;
  ReplayCommand& operator=(const ReplayCommand&) = delete;
  // After parsing: the exit status when `replay` was given, else nullopt.
  std::optional<int> run() const;

 private:
  struct Args;
  std::unique_ptr<Args> args_;
  CLI::App* cmd_ = nullptr;
};

}  // namespace ordo::cli
