#pragma once
// A background thread for heavy recomputation, so the window never waits.
//
// At most one job runs and one waits. Submitting replaces the waiting job
// (it was stale), and a result is handed back only if no newer job was
// submitted after it: a slider dragged quickly costs at most two
// computations, and only the last one is shown.
#include <any>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace gui {

class Worker {
 public:
  // The job returns its result, or throws attn::Error / std::exception whose
  // message is handed back instead.
  using Job = std::function<std::any()>;
  struct Result {
    std::any value;     // empty when the job failed
    std::string error;  // the failure's message
  };

  // `on_done` (optional) is called on the worker's thread after each
  // result is stored: the app's event loop sleeps until it wakes it.
  explicit Worker(std::function<void()> on_done = {});
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void submit(Job job);
  // The newest job's result once it is ready (then never again).
  std::optional<Result> take();
  // True while a job is queued or running; `seconds` is how long the current one has run.
  bool busy(double* seconds = nullptr) const;

  // For a job's code, between its steps: throws Cancelled once a newer job
  // has been submitted to the worker running it (its result would be
  // dropped anyway), so a stale job stops early. Outside a job: a no-op.
  struct Cancelled : std::exception {
    const char* what() const noexcept override { return "cancelled"; }
  };
  static void check_cancelled();

 private:
  void loop();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Job> waiting_;
  std::optional<Result> done_;
  std::uint64_t submitted_ = 0, running_id_ = 0;
  bool running_ = false, stop_ = false;
  std::chrono::steady_clock::time_point started_;
  std::function<void()> on_done_;
  std::thread thread_;
};

}  // namespace gui
