//! A persistent pool of counting threads, and sets of tasks that the calling thread and the pool
//! share.
//!
//! Spawning a thread per call cost ~20-40 µs, as much as counting a 1,024-character chunk takes
//! several times over; the pool's threads start once, on the first parallel count, and then
//! sleep on a condition variable. The pool has one thread fewer than the machine has cores,
//! because the calling thread counts too: it takes tasks from the same set until none is left.
//!
//! The calling thread never waits long for a worker. Counting is pure, so when only tasks a
//! worker has begun are left, the caller waits about as long as one of its own tasks took and
//! then counts the unfinished ones again itself, keeping whichever result comes first. On a
//! machine shared with other processes a worker can lose its core for a whole scheduler slice
//! (milliseconds) in the middle of a task; waiting for it made a batch slower than counting on
//! one thread (0.85x measured under load), redoing bounds the loss to about two tasks.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Queue {
    jobs: VecDeque<Job>,
    // Workers asleep on `ready`: a notification costs a futex system call even when nobody
    // waits, so it is sent only when someone would wake.
    idle: usize,
}

struct Pool {
    queue: Mutex<Queue>,
    ready: Condvar,
}

static POOL: OnceLock<Option<Pool>> = OnceLock::new();

// How long the caller waits for a task a worker holds before it has measured one of its own.
const FIRST_PATIENCE: Duration = Duration::from_micros(100);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Jobs run under `catch_unwind` and never panic while holding a lock; should one ever have,
    // the data (queues, counters) is still consistent between statements.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many worker threads the pool runs: one fewer than the cores, as the caller counts too.
pub(crate) fn worker_count() -> usize {
    // `available_parallelism` reads the affinity mask and cgroup files on every call.
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()) - 1)
}

fn pool() -> Option<&'static Pool> {
    let pool = POOL.get_or_init(|| {
        (worker_count() > 0).then(|| Pool {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                idle: 0,
            }),
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
            let mut queue = lock(&pool.queue);
            loop {
                match queue.jobs.pop_front() {
                    Some(job) => break job,
                    None => {
                        queue.idle += 1;
                        queue = pool
                            .ready
                            .wait(queue)
                            .unwrap_or_else(PoisonError::into_inner);
                        queue.idle -= 1;
                    }
                }
            }
        };
        // A panic ends the job, not the worker; the task set notices the missing result.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

fn offer(pool: &Pool, job: Job) {
    let mut queue = lock(&pool.queue);
    queue.jobs.push_back(job);
    let wake = queue.idle > 0;
    drop(queue);
    if wake {
        pool.ready.notify_one();
    }
}

enum Slot<T, R> {
    Pending(Arc<T>),
    Running(Arc<T>),
    // `None` when the task panicked.
    Done(Option<R>),
}

struct State<T, R> {
    slots: Vec<Slot<T, R>>,
    // Slots before this one have been taken; tasks are taken in push order.
    next_pending: usize,
    // Pool jobs queued or running for this set. Each job runs tasks until none is pending, so
    // one job per worker is enough and a push offers a new one only when fewer are out.
    jobs_out: usize,
    unfinished: usize,
    // Whether the caller sleeps on `finished`; otherwise a finished task notifies nobody (each
    // notification is a system call).
    caller_waiting: bool,
}

struct TaskSet<T, R> {
    state: Mutex<State<T, R>>,
    finished: Condvar,
    run: Box<dyn Fn(&T) -> R + Send + Sync>,
}

impl<T, R> TaskSet<T, R> {
    /// Takes the next pending task; when none is left and `leaving_job`, the calling pool job
    /// ends, decided under the same lock that a push checks `jobs_out` under.
    fn take(&self, leaving_job: bool) -> Option<(usize, Arc<T>)> {
        let mut state = lock(&self.state);
        let index = state.next_pending;
        let task = match state.slots.get_mut(index) {
            Some(slot) => match slot {
                Slot::Pending(task) => {
                    let task = Arc::clone(task);
                    *slot = Slot::Running(Arc::clone(&task));
                    Some(task)
                }
                Slot::Running(_) | Slot::Done(_) => None,
            },
            None => None,
        };
        match task {
            Some(task) => {
                state.next_pending += 1;
                Some((index, task))
            }
            None => {
                if leaving_job {
                    state.jobs_out -= 1;
                }
                None
            }
        }
    }

    /// Runs a task and records its result unless another thread's run of it already did.
    fn run(&self, index: usize, task: &T) {
        let result = catch_unwind(AssertUnwindSafe(|| (self.run)(task))).ok();
        let mut state = lock(&self.state);
        let replaced = match state.slots.get_mut(index) {
            Some(slot) if !matches!(slot, Slot::Done(_)) => {
                Some(std::mem::replace(slot, Slot::Done(result)))
            }
            _ => None,
        };
        if replaced.is_some() {
            state.unfinished -= 1;
        }
        let wake = state.caller_waiting;
        drop(state);
        // The task's input is freed outside the lock.
        drop(replaced);
        if wake {
            self.finished.notify_all();
        }
    }

    /// A pool job: runs pending tasks until none is left.
    fn drain(&self) {
        while let Some((index, task)) = self.take(true) {
            self.run(index, &task);
        }
    }
}

/// Tasks counted by the pool and the calling thread together; results come back by index.
pub(crate) struct Tasks<T, R> {
    set: Arc<TaskSet<T, R>>,
}

impl<T: Send + Sync + 'static, R: Send + 'static> Tasks<T, R> {
    /// An empty set whose tasks are run by `run`.
    pub(crate) fn new(run: impl Fn(&T) -> R + Send + Sync + 'static) -> Self {
        Self {
            set: Arc::new(TaskSet {
                state: Mutex::new(State {
                    slots: Vec::new(),
                    next_pending: 0,
                    jobs_out: 0,
                    unfinished: 0,
                    caller_waiting: false,
                }),
                finished: Condvar::new(),
                run: Box::new(run),
            }),
        }
    }

    /// Adds a task and offers it to the pool, which may start it at once.
    pub(crate) fn push(&mut self, task: T) {
        let offer_job = {
            let mut state = lock(&self.set.state);
            state.slots.push(Slot::Pending(Arc::new(task)));
            state.unfinished += 1;
            let more = state.jobs_out < worker_count();
            state.jobs_out += usize::from(more);
            more
        };
        if !offer_job {
            return;
        }
        match pool() {
            Some(pool) => {
                let set = Arc::clone(&self.set);
                offer(pool, Box::new(move || set.drain()));
            }
            // No pool (one core, or no thread could start): the caller runs everything.
            None => lock(&self.set.state).jobs_out -= 1,
        }
    }

    /// Adds a task without offering it to the pool: the calling thread runs it in
    /// [`Tasks::finish`] (unless a job still draining the set takes it first).
    pub(crate) fn push_local(&mut self, task: T) {
        let mut state = lock(&self.set.state);
        state.slots.push(Slot::Pending(Arc::new(task)));
        state.unfinished += 1;
    }

    /// Runs the pending tasks on the calling thread, then finishes (waiting briefly, or redoing)
    /// those the pool has begun, and returns the results in task order; `None` marks a task
    /// that panicked.
    pub(crate) fn finish(self) -> Vec<Option<R>> {
        let mut patience = FIRST_PATIENCE;
        while let Some((index, task)) = self.set.take(false) {
            let started = Instant::now();
            self.set.run(index, &task);
            patience = started.elapsed();
        }
        // Only tasks a worker holds are left. A healthy worker finishes its task within about
        // one task's time; one that has not was most likely descheduled, and is overtaken.
        let mut state = lock(&self.set.state);
        while state.unfinished > 0 {
            state.caller_waiting = true;
            let (mut waited, timeout) = self
                .set
                .finished
                .wait_timeout_while(state, patience, |state| state.unfinished > 0)
                .unwrap_or_else(PoisonError::into_inner);
            waited.caller_waiting = false;
            state = waited;
            if !timeout.timed_out() {
                break;
            }
            let overdue = state
                .slots
                .iter()
                .enumerate()
                .find_map(|(index, slot)| match slot {
                    Slot::Running(task) => Some((index, Arc::clone(task))),
                    _ => None,
                });
            drop(state);
            if let Some((index, task)) = overdue {
                self.set.run(index, &task);
            }
            state = lock(&self.set.state);
        }
        let slots = std::mem::take(&mut state.slots);
        drop(state);
        slots
            .into_iter()
            .map(|slot| match slot {
                Slot::Done(result) => result,
                Slot::Pending(_) | Slot::Running(_) => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_task_order() {
        let mut tasks = Tasks::new(|&n: &u64| (0..n * 1000).sum::<u64>());
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
        let mut tasks = Tasks::new(|&n: &u32| {
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

    #[test]
    fn a_slow_run_is_overtaken_and_every_result_is_kept_once() {
        use std::sync::atomic::{AtomicBool, Ordering};
        // The first run of task 0 stalls, as a descheduled worker would; whoever runs it
        // again (or the stalled run itself) must produce the one result in its slot.
        let stalled = AtomicBool::new(false);
        let mut tasks = Tasks::new(move |&n: &u32| {
            if n == 0 && !stalled.swap(true, Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            n + 1
        });
        for n in 0..40 {
            tasks.push(n);
        }

        let results = tasks.finish();

        let expected: Vec<_> = (1..=40).map(Some).collect();
        assert_eq!(results, expected);
    }
}
