//! A persistent pool of counting threads, and sets of tasks that the calling thread and the pool
//! share.
//!
//! Spawning a thread per call cost ~20-40 µs, as much as counting a 1,024-character chunk takes
//! several times over; the pool's threads start once, on the first parallel count, and then
//! sleep on a condition variable. The pool has one thread fewer than the machine has cores,
//! because the calling thread counts too: it takes tasks from the same set until none is left,
//! then waits only for the tasks a worker has already begun. A task is never waited for before
//! someone has taken it, so a busy pool (another batch, another text) costs parallelism, never
//! progress.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

static POOL: OnceLock<Option<Pool>> = OnceLock::new();

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Jobs run under `catch_unwind` and never panic while holding a lock; should one ever have,
    // the data (queues, counters) is still consistent between statements.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many worker threads the pool runs: one fewer than the cores, as the caller counts too.
pub(crate) fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) - 1
}

fn pool() -> Option<&'static Pool> {
    let pool = POOL.get_or_init(|| {
        (worker_count() > 0).then(|| Pool {
            jobs: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        })
    });
    let pool = pool.as_ref()?;
    static STARTED: OnceLock<usize> = OnceLock::new();
    let started = STARTED.get_or_init(|| {
        (0..worker_count())
            .filter(|index| {
                std::thread::Builder::new()
                    .name(format!("litellm-rust-count-{index}"))
                    .spawn(move || work(pool))
                    .is_ok()
            })
            .count()
    });
    (*started > 0).then_some(pool)
}

fn work(pool: &'static Pool) {
    loop {
        let job = {
            let mut jobs = lock(&pool.jobs);
            loop {
                match jobs.pop_front() {
                    Some(job) => break job,
                    None => {
                        jobs = pool
                            .ready
                            .wait(jobs)
                            .unwrap_or_else(PoisonError::into_inner)
                    }
                }
            }
        };
        // A panic ends the job, not the worker; the task set notices the missing result.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

struct State<T, R> {
    pending: VecDeque<(usize, T)>,
    results: Vec<(usize, R)>,
    taken: usize,
    finished: usize,
}

struct TaskSet<T, R> {
    state: Mutex<State<T, R>>,
    finished: Condvar,
    run: Box<dyn Fn(T) -> R + Send + Sync>,
}

impl<T, R> TaskSet<T, R> {
    /// Takes one pending task and runs it; false when none was pending.
    fn run_one(&self) -> bool {
        let Some((index, task)) = ({
            let mut state = lock(&self.state);
            let task = state.pending.pop_front();
            state.taken += usize::from(task.is_some());
            task
        }) else {
            return false;
        };
        let result = catch_unwind(AssertUnwindSafe(|| (self.run)(task)));
        let mut state = lock(&self.state);
        if let Ok(result) = result {
            state.results.push((index, result));
        }
        state.finished += 1;
        drop(state);
        self.finished.notify_all();
        true
    }
}

/// Tasks counted by the pool and the calling thread together; results come back by index.
pub(crate) struct Tasks<T, R> {
    set: Arc<TaskSet<T, R>>,
    next_index: usize,
}

impl<T: Send + 'static, R: Send + 'static> Tasks<T, R> {
    /// An empty set whose tasks are run by `run`.
    pub(crate) fn new(run: impl Fn(T) -> R + Send + Sync + 'static) -> Self {
        Self {
            set: Arc::new(TaskSet {
                state: Mutex::new(State {
                    pending: VecDeque::new(),
                    results: Vec::new(),
                    taken: 0,
                    finished: 0,
                }),
                finished: Condvar::new(),
                run: Box::new(run),
            }),
            next_index: 0,
        }
    }

    /// Adds a task and offers it to the pool, which may start it at once.
    pub(crate) fn push(&mut self, task: T) {
        lock(&self.set.state)
            .pending
            .push_back((self.next_index, task));
        self.next_index += 1;
        if let Some(pool) = pool() {
            let set = Arc::clone(&self.set);
            // The job takes whichever task is pending when it runs; if the caller took them
            // all first, it finds none and ends.
            lock(&pool.jobs).push_back(Box::new(move || {
                set.run_one();
            }));
            pool.ready.notify_one();
        }
    }

    /// Adds a task without offering it to the pool: the calling thread runs it in
    /// [`Tasks::finish`] (unless a worker still holding a job of an earlier task takes it first).
    pub(crate) fn push_local(&mut self, task: T) {
        lock(&self.set.state)
            .pending
            .push_back((self.next_index, task));
        self.next_index += 1;
    }

    /// Runs the pending tasks on the calling thread, waits for those the pool has begun, and
    /// returns the results in task order; `None` marks a task that panicked.
    pub(crate) fn finish(self) -> Vec<Option<R>> {
        while self.set.run_one() {}
        let mut state = lock(&self.set.state);
        while state.finished < state.taken {
            state = self
                .set
                .finished
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let mut results: Vec<Option<R>> = (0..self.next_index).map(|_| None).collect();
        for (index, result) in state.results.drain(..) {
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(result);
            }
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_task_order() {
        let mut tasks = Tasks::new(|n: u64| (0..n * 1000).sum::<u64>());
        for n in (1..200).rev() {
            tasks.push(n);
        }

        let results = tasks.finish();

        let expected: Vec<_> = (1..200u64)
            .rev()
            .map(|n| Some((0..n * 1000).sum()))
            .collect();
        assert_eq!(results, expected);
    }

    #[test]
    fn a_panicking_task_is_marked_and_the_rest_still_count() {
        let mut tasks = Tasks::new(|n: u32| {
            if n == 3 {
                panic!("tokenizer bug");
            }
            n * 2
        });
        for n in 0..6 {
            tasks.push(n);
        }

        let results = tasks.finish();

        assert_eq!(
            results,
            [Some(0), Some(2), Some(4), None, Some(8), Some(10)]
        );
    }
}
