// The commands that work on an Ordo database (--db FILE): deploy, start, correlate,
// instances, show, incidents, retry, cancel, worker, backup. Kept apart from main.cc so the
// in-memory commands (validate, inspect, run) and these can change independently.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace ordo::cli {

class StoreCommands {
 public:
  // Adds the subcommands to `app`; their options are bound to this object, which must
  // outlive parsing.
  explicit StoreCommands(CLI::App& app);
  ~StoreCommands();
  StoreCommands(const StoreCommands&) = delete;
  StoreCommands& operator=(const StoreCommands&) = delete;

  // After app.parse(): the exit status of the store command that was given, or nullopt when
  // the command line named another one.
  std::optional<int> run() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ordo::cli
