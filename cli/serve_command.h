// `ordo serve`: the HTTP API (server/) over a database, with a worker doing the jobs.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace ordo::cli {

class ServeCommand {
 public:
  explicit ServeCommand(CLI::App& app);
  ~ServeCommand();
  ServeCommand(const ServeCommand&) = delete;
  ServeCommand& operator=(const ServeCommand&) = delete;
  // After parsing: the exit status when `serve` was given, else nullopt.
  std::optional<int> run() const;

 private:
  struct Args;
  std::unique_ptr<Args> args_;
  CLI::App* cmd_ = nullptr;
};

}  // namespace ordo::cli
