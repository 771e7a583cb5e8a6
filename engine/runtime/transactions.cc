// Transactions and state: how a command opens and commits its transaction (and a group of
// commands shares one), and how the runtime reads and changes state through the store.
#include "runtime/runtime.h"

#include <algorithm>
#include <utility>

namespace ordo::runtime {

// ---- transactions and commands ----

Status Runtime::begin() {
  ++command_;
  touched_.clear();
  steps_ = 0;
  conditions_due_.clear();
  conditions_fired_.clear();
  if (group_) return store_failure_;  // a failed group refuses the rest of its commands
  if (Status s = store_.begin(); !s) return s;
  start_transaction();
  return Status::ok();
}

void Runtime::start_transaction() {
  in_txn_ = true;
  allocated_in_txn_ = false;
  fresh_batches_.clear();
  damaged_.reset();
  lost_race_ = false;
  store_failure_ = Status::ok();
  others_changed_ = store_.changed_by_others();
}

void Runtime::failed(Status s) {
  if (store_failure_.is_ok() && !s.is_ok()) {
    lost_race_ = s.code() == StatusCode::kConflict;
    store_failure_ = std::move(s);
  }
}

void Runtime::roll_back() noexcept {
  if (in_txn_) store_.rollback();
  in_txn_ = false;
  dirty_jobs_.clear();
  pending_.clear();
  batch_.clear();
  queue_.clear();
  deliveries_.clear();
  takes_.clear();
  finished_.clear();
  claimed_.clear();
  // Numbers taken from the store in this transaction were given back with it.
  if (allocated_in_txn_) {
    next_key_ = key_end_ = 0;
    next_instance_ = instance_end_ = 0;
    allocated_in_txn_ = false;
  }
}

void Runtime::abandon() {
  batch_.clear();
  if (group_) return;
  // Nothing was written: give the transaction (and a shared store's write lock) back.
  roll_back();
}

Status Runtime::commit() {
  if (store_failure_.is_ok()) {
    store::Changes changes{touched_, dirty_jobs_, finished_, batch_};
    failed(store_.write(changes));
  }
  dirty_jobs_.clear();
  finished_.clear();
  if (!store_failure_.is_ok()) {
    Status s = store_failure_;
    roll_back();
    if (group_) store_failure_ = s;  // the rest of the group is refused
    return s;
  }
  if (recording_) {
    if (pending_.empty()) {
      pending_.swap(batch_);
    } else {
      pending_.insert(pending_.end(), std::make_move_iterator(batch_.begin()),
                      std::make_move_iterator(batch_.end()));
    }
  }
  batch_.clear();
  if (group_) return Status::ok();
  return finish_transaction();
}

Status Runtime::finish_transaction() {
  if (Status s = store_.commit(); !s) {
    // A shared store may find at commit that another process got there first (an instance
    // changed, a business key taken): a race lost, as when a command finds it.
    lost_race_ = s.code() == StatusCode::kConflict;
    roll_back();
    return s;
  }
  in_txn_ = false;
  if (const std::int64_t shift = store_.history_shift(); shift != 0) {
    for (HistoryEvent& e : pending_) e.sequence += static_cast<std::uint64_t>(shift);
  }
  if (committed_.empty()) {
    committed_.swap(pending_);
  } else {
    committed_.insert(committed_.end(), std::make_move_iterator(pending_.begin()),
                      std::make_move_iterator(pending_.end()));
  }
  pending_.clear();
  return Status::ok();
}

Status Runtime::begin_group() {
  if (group_) return Status::ok();
  if (Status s = store_.begin(); !s) return s;
  start_transaction();
  group_ = true;
  return Status::ok();
}

// The buffered messages the group's new subscriptions took: each delivered to its
// subscription in a command of its own, as if it had been published just then (a
// subscription closed meanwhile puts it back, in its place in line). Those commands may
// open subscriptions in turn.
Status Runtime::settle_takes() {
  while (!takes_.empty() && store_failure_.is_ok()) {
    Result<std::vector<store::Store::Taken>> found = store_.taken_buffered();
    std::vector<PendingTake> asked = std::exchange(takes_, {});
    if (!found) {
      failed(found.status());
      break;
    }
    for (auto& [wait, message] : *found) {
      auto it = std::find_if(asked.begin(), asked.end(),
                             [w = wait](const PendingTake& p) { return p.wait == w; });
      if (it == asked.end()) {
        failed(Status::internal("a buffered message was taken for a subscription not asked"));
        break;
      }
      if (Status s = begin(); !s) break;
      deliveries_.push_back(Delivery{it->instance, wait, std::move(message)});
      run_queue();
      if (Status s = commit(); !s) break;
    }
  }
  return store_failure_;
}

Status Runtime::end_group() {
  if (!group_) return Status::ok();
  if (!takes_.empty()) (void)settle_takes();  // a failure is the group's, below
  group_ = false;
  Status failure = std::exchange(store_failure_, Status::ok());
  if (!failure.is_ok()) {
    roll_back();  // when the failing command was abandoned rather than committed
    return failure;
  }
  if (!in_txn_) return Status::ok();
  return finish_transaction();
}

void Runtime::abort_group() noexcept {
  if (!group_) return;
  group_ = false;
  store_failure_ = Status::ok();
  roll_back();
}

// ---- state access ----

Status Runtime::attach(Instance& inst, std::string_view process_id, int version) {
  inst.plan = plan(process_id, version);
  if (inst.plan == nullptr) {
    return Status(StatusCode::kNotFound,
                  "instance " + std::to_string(inst.id) + " runs version " +
                      std::to_string(version) + " of process '" + std::string(process_id) +
                      "', which is not deployed in this database");
  }
  // A damaged row must not index outside the definition.
  const std::size_t n = inst.plan->def->elements.size();
  bool sane = inst.end_event == kNoIndex || inst.end_event < n;
  for (const ElementInstance& e : inst.elements) sane &= e.element < n;
  for (const Wait& w : inst.waits) sane &= w.event < n;
  for (const Incident& i : inst.incidents) sane &= i.element_index == kNoIndex || i.element_index < n;
  for (const state::Compensable& c : inst.compensations) sane &= c.element < n;
  if (!sane) {
    return Status(StatusCode::kCorruption,
                  "the stored state of instance " + std::to_string(inst.id) +
                      " does not fit version " + std::to_string(version) + " of process '" +
                      std::string(process_id) + "'; restore the database from a backup");
  }
  return Status::ok();
}

Instance* Runtime::get(InstanceId id) {
  Result<Instance*> found = store_.instance(id);
  if (!found) {
    // Named when it is what fails the transaction.
    if (found.status().code() == StatusCode::kCorruption && store_failure_.is_ok()) damaged_ = id;
    failed(found.status());
    return nullptr;
  }
  return *found;
}

Result<bool> Runtime::hold_damaged(InstanceId id, std::string_view why) {
  if (in_txn_ || group_) {
    return Status(StatusCode::kInternal, "hold_damaged inside a transaction");
  }
  if (Status s = begin(); !s) return s;
  // The whole call tree is held: a command on any of its instances may need the damaged one.
  Result<std::vector<store::Store::TreeMember>> tree = store_.call_tree(id);
  if (!tree) {
    abandon();
    return tree.status();
  }
  bool any = false;
  for (const store::Store::TreeMember& m : *tree) {
    const IncidentKey key = new_key();
    std::string message =
        m.id == id ? std::string(why) +
                         "; meanwhile its jobs, timers and messages wait: resolve this incident "
                         "once it reads again"
                   : "held with instance " + std::to_string(id) +
                         " of its call tree, whose stored state cannot be read: resolve this "
                         "incident once that one is resolved";
    Result<bool> held = store_failure_.is_ok() ? store_.hold_damaged(m.id, key, message, now())
                                               : Result<bool>(store_failure_);
    if (!held) {
      abandon();
      return held.status();
    }
    if (!*held) continue;
    any = true;
    if (recording_) {
      // Told like any incident. The process is read from the row's columns (the plan keeps
      // the text the event points into).
      HistoryEvent& e = batch_.emplace_back();
      e.time_ms = now();
      e.instance = m.id;
      e.kind = HistoryKind::kIncidentRaised;
      if (std::shared_ptr<const Plan> p = plan(m.process_id, m.version)) {
        e.process_id = p->def->id;
      }
      e.key = key;
      e.detail = std::move(message);
    }
  }
  if (!any) {
    abandon();
    return false;
  }
  if (Status s = commit(); !s) return s;
  return true;
}

Instance* Runtime::live(InstanceId id) {
  Instance* inst = get(id);
  if (inst == nullptr || inst->finished()) return nullptr;
  touch(*inst);
  return inst;
}

void Runtime::touch(Instance& inst) {
  if (inst.touched_in == command_) return;
  inst.touched_in = command_;
  touched_.push_back(inst.id);
}

JobRecord* Runtime::find_job(JobKey key) {
  Result<JobRecord*> found = store_.job(key);
  if (!found) {
    failed(found.status());
    return nullptr;
  }
  return *found;
}

void Runtime::touch_job(JobKey key) {
  dirty_jobs_.push_back(key);
}

std::uint64_t Runtime::new_key() {
  if (next_key_ == key_end_) {
    constexpr std::uint64_t kBlock = 4096;
    allocated_in_txn_ = true;
    Result<std::uint64_t> first =
        store_failure_.is_ok() ? store_.allocate("key", kBlock) : Result<std::uint64_t>(store_failure_);
    if (!first) {
      // The command will be rolled back; its keys only need to differ from each other.
      failed(first.status());
      next_key_ = std::uint64_t{1} << 62;
      key_end_ = ~std::uint64_t{0};
      return next_key_++;
    }
    next_key_ = *first;
    key_end_ = *first + kBlock;
  }
  return next_key_++;
}

InstanceId Runtime::new_instance_id() {
  if (next_instance_ == instance_end_) {
    constexpr std::uint64_t kBlock = 256;
    allocated_in_txn_ = true;
    Result<std::uint64_t> first = store_failure_.is_ok() ? store_.allocate("instance", kBlock)
                                                          : Result<std::uint64_t>(store_failure_);
    if (!first) {
      failed(first.status());
      next_instance_ = InstanceId{1} << 62;
      instance_end_ = ~InstanceId{0};
      return next_instance_++;
    }
    next_instance_ = *first;
    instance_end_ = *first + kBlock;
  }
  return next_instance_++;
}

void Runtime::add_timer(std::int64_t due, std::uint64_t id, TimerRecord rec) {
  if (!store_failure_.is_ok()) return;  // the transaction is lost: write nothing more
  failed(store_.add_timer(store::TimerRow{due, id, std::move(rec)}));
}

void Runtime::cancel_timer(std::int64_t due, std::uint64_t id) {
  if (!store_failure_.is_ok()) return;
  failed(store_.remove_timer(due, id));
}

void Runtime::buffer(BufferedMessage message) {
  if (!store_failure_.is_ok()) return;
  failed(store_.add_buffered(message, now()));
}

std::optional<InstanceId> Runtime::find_business_key(const Plan& plan, const std::string& key) {
  if (key.empty()) return std::nullopt;
  Result<std::optional<InstanceId>> found = store_.find_business_key(plan.def->id, key);
  if (!found) {
    failed(found.status());
    return std::nullopt;
  }
  return *found;
}

}  // namespace ordo::runtime
