#pragma once
// A small pool of threads for the engine's data-parallel loops.
//
// parallel_for(count, fn) runs fn(0) ... fn(count - 1), each exactly once,
// on the pool's threads and the calling one, and returns when all are done.
// The first exception a task throws is rethrown in the caller (the tasks not
// yet started are skipped). One loop runs on the pool at a time: a call made
// while the pool is busy (from another thread, or from inside a task) runs
// its loop on the calling thread alone, so nesting never deadlocks.
#include <functional>

namespace attn {

void parallel_for(int count, const std::function<void(int)>& fn);

// Threads a loop uses, the caller included (>= 1). The default is the
// number of hardware threads, or ATTNSCOPE_THREADS when set.
int thread_count();
// Changes it (n <= 0: the default). Must not be called from inside a loop.
void set_thread_count(int n);

}  // namespace attn
