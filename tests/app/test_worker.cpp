// The app's background worker: results come back, stale ones never do, and
// failures become messages. Run under ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/attention.hpp"
#include "core/error.hpp"
#include "worker.hpp"

namespace {

using namespace std::chrono_literals;

std::optional<gui::Worker::Result> wait_for(gui::Worker& w) {
  for (int i = 0; i < 2000; ++i) {
    if (auto r = w.take()) return r;
    std::this_thread::sleep_for(1ms);
  }
  return std::nullopt;
}

TEST(Worker, ReturnsTheResult) {
  gui::Worker w;
  w.submit([] { return std::any(42); });
  const auto r = wait_for(w);
  ASSERT_TRUE(r);
  EXPECT_EQ(std::any_cast<int>(r->value), 42);
  EXPECT_FALSE(w.take());  // handed back once
}

TEST(Worker, OnlyTheNewestOfManySubmissionsComesBack) {
  gui::Worker w;
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i)
    w.submit([i, &ran] {
      ++ran;
      std::this_thread::sleep_for(2ms);
      return std::any(i);
    });
  const auto r = wait_for(w);
  ASSERT_TRUE(r);
  EXPECT_EQ(std::any_cast<int>(r->value), 49);
  EXPECT_LT(ran.load(), 50) << "stale waiting jobs are replaced, not run";
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(w.take());
  EXPECT_FALSE(w.busy());
}

TEST(Worker, FailuresBecomeMessages) {
  gui::Worker w;
  w.submit([]() -> std::any { throw attn::Error("bad file"); });
  const auto r = wait_for(w);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->value.has_value());
  EXPECT_EQ(r->error, "bad file");
}

TEST(Worker, DestroyedWhileBusy) {
  auto w = std::make_unique<gui::Worker>();
  w->submit([] {
    std::this_thread::sleep_for(20ms);
    return std::any(1);
  });
  w->submit([] { return std::any(2); });
  w.reset();  // joins the running job, drops the waiting one
  SUCCEED();
}

}  // namespace

namespace {

TEST(Worker, AStaleJobStopsAtItsNextCheck) {
  gui::Worker w;
  std::atomic<bool> started{false};
  std::atomic<int> steps{0};
  w.submit([&] {
    started = true;
    for (int i = 0; i < 100000; ++i) {  // 100 s unless cancelled
      gui::Worker::check_cancelled();
      ++steps;
      std::this_thread::sleep_for(1ms);
    }
    return std::any(-1);
  });
  while (!started) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  w.submit([] { return std::any(7); });
  const auto r = wait_for(w);  // within 2 s: only if the first job stopped
  ASSERT_TRUE(r);
  EXPECT_EQ(std::any_cast<int>(r->value), 7);
  EXPECT_LT(steps.load(), 2000);
  gui::Worker::check_cancelled();  // outside a job: nothing happens
  // Multi-threaded engine work inside a job is fine too (the pool runs it).
  w.submit([] {
    const attn::Matrix q = attn::Matrix::Random(300, 16);
    return std::any(attn::attend(q, q, q, {}).output.rows());
  });
  const auto e = wait_for(w);
  ASSERT_TRUE(e);
  EXPECT_EQ(std::any_cast<Eigen::Index>(e->value), 300);
}

}  // namespace
