//! A test-only global allocator that proves secrets are zeroized before their memory is freed.
//!
//! keybound promises that private key material never stays behind in freed heap memory
//! (`SECURITY.md`). Reading a block as it is freed needs `unsafe`, which keybound forbids, so
//! the check lives here, in a crate that is never published and that only tests use:
//!
//! ```ignore
//! #[global_allocator]
//! static PROBE: keybound_alloc_probe::Probe = keybound_alloc_probe::Probe;
//!
//! keybound_alloc_probe::watch("d (base64url)", d_text.as_bytes());
//! keybound_alloc_probe::arm();
//! drop(SigningKey::from_jwk(&jwk));
//! let report = keybound_alloc_probe::disarm();
//! assert!(report.is_clean(), "{report}");
//! ```
//!
//! How it works:
//! - every block is filled with [`POISON`] when it is allocated, so whatever a block holds
//!   when it is freed was written during its own lifetime, never left over from an earlier
//!   block at the same address;
//! - while the probe is armed, [`GlobalAlloc::dealloc`] looks through the block, as it is at
//!   that moment, for every [`CHUNK`]-byte piece of every watched secret, and records a hit
//!   before handing the block back to the system allocator. A buffer zeroized before it is
//!   freed (`Zeroizing`) holds only zeros by then and passes; a plain `String` or `Vec` with a
//!   copy of the secret (or a piece of one at least `2 × CHUNK − 1` bytes long) is caught;
//! - `realloc` is not overridden: the trait's default allocates a new block, copies, and frees
//!   the old one through `dealloc`, so a buffer that grows leaves nothing unchecked behind.
//!
//! Limits, by construction: only the heap is checked (not the stack, not registers, not memory
//! a C library allocates with `malloc` itself), and only blocks that are freed while the probe
//! is armed. Blocks freed on a thread that is being torn down are not checked.
//!
//! Set `ALLOC_PROBE_TRACES=1` to record a backtrace of each hit (slow, but names the culprit).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Length of the pieces each secret is cut into. Long enough that a random match is
/// impossible in practice, short enough that a partial copy of a secret is still caught.
pub const CHUNK: usize = 16;

/// The byte every new block is filled with.
pub const POISON: u8 = 0xa5;

const MAX_NEEDLES: usize = 2048;
const MAX_HITS: usize = 64;

/// The test-only global allocator: the system allocator plus the checks described in the
/// crate documentation.
pub struct Probe;

/// One watched piece of a secret.
#[derive(Clone, Copy)]
struct Needle {
    /// The first 8 bytes, to look pieces up by.
    prefix: u64,
    bytes: [u8; CHUNK],
    label: &'static str,
    /// Watched with [`watch_known_gap`]: counted, but not a failure.
    known_gap: bool,
}

const EMPTY_NEEDLE: Needle = Needle {
    prefix: 0,
    bytes: [0; CHUNK],
    label: "",
    known_gap: false,
};

/// A freed block that still held a piece of a watched secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The label the secret was watched under.
    pub label: &'static str,
    /// Size of the freed block, in bytes.
    pub block_size: usize,
    /// Where in the block the piece started.
    pub offset: usize,
    /// The secret was watched with [`watch_known_gap`].
    pub known_gap: bool,
}

struct State {
    needles: [Needle; MAX_NEEDLES],
    count: usize,
    hits: [Option<Hit>; MAX_HITS],
    hit_count: usize,
    known_gap_count: usize,
    checked_blocks: usize,
    traces: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    needles: [EMPTY_NEEDLE; MAX_NEEDLES],
    count: 0,
    hits: [None; MAX_HITS],
    hit_count: 0,
    known_gap_count: 0,
    checked_blocks: 0,
    traces: false,
});

static ARMED: AtomicBool = AtomicBool::new(false);

static TRACES: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    /// Set while this thread is inside the probe, so the probe's own allocations (backtraces)
    /// are not checked recursively.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn prefix(bytes: &[u8]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes[..8]);
    u64::from_ne_bytes(first)
}

impl State {
    /// Records the first watched piece found in `block` (a piece of a secret that is not a
    /// known gap first); whether there was one.
    fn scan(&mut self, block: &[u8]) -> bool {
        self.checked_blocks += 1;
        let needles = &self.needles[..self.count];
        if needles.is_empty() || block.len() < CHUNK {
            return false;
        }
        let mut first_known_gap = None;
        for offset in 0..=block.len() - CHUNK {
            let window = &block[offset..offset + CHUNK];
            let key = prefix(window);
            let start = needles.partition_point(|n| n.prefix < key);
            let found = needles[start..]
                .iter()
                .take_while(|n| n.prefix == key)
                .find(|n| n.bytes == window);
            match found {
                Some(needle) if !needle.known_gap => {
                    let needle = *needle;
                    self.record(&needle, block.len(), offset);
                    return true;
                }
                Some(needle) => {
                    first_known_gap.get_or_insert((*needle, offset));
                }
                None => {}
            }
        }
        match first_known_gap {
            Some((needle, offset)) => {
                self.record(&needle, block.len(), offset);
                true
            }
            None => false,
        }
    }

    fn record(&mut self, needle: &Needle, block_size: usize, offset: usize) {
        if needle.known_gap {
            self.known_gap_count += 1;
        } else {
            self.hit_count += 1;
        }
        let recorded = self.hits.iter().flatten().count();
        if recorded < MAX_HITS {
            self.hits[recorded] = Some(Hit {
                label: needle.label,
                block_size,
                offset,
                known_gap: needle.known_gap,
            });
        }
    }
}

/// Checks `block` (about to be freed) against the watched secrets.
fn check(block: &[u8]) {
    let entered = BUSY.try_with(|busy| !busy.replace(true)).unwrap_or(false);
    if !entered {
        return;
    }
    let (hit, traces) = {
        let mut state = lock(&STATE);
        (state.scan(block), state.traces)
    };
    if hit && traces {
        let trace = std::backtrace::Backtrace::force_capture().to_string();
        lock(&TRACES).push(trace);
    }
    let _ = BUSY.try_with(|busy| busy.set(false));
}

// SAFETY: every method forwards to `System` with the caller's own arguments, which satisfy
// `GlobalAlloc`'s contract; the additions only write to a block just allocated (within its
// size) and read a block about to be freed (within its size, before freeing it).
unsafe impl GlobalAlloc for Probe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, forwarded unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            // SAFETY: `ptr` is a new block of `layout.size()` writable bytes.
            unsafe { ptr.write_bytes(POISON, layout.size()) };
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::Acquire) {
            // SAFETY: the caller guarantees `ptr` is a live block of `layout.size()` bytes from
            // this allocator; every byte of it was initialised (poisoned or zeroed) when it was
            // allocated, and it stays ours until `System.dealloc` below.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            check(block);
        }
        // SAFETY: the caller's pointer and layout, forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Watches `secret` under `label`: cut into overlapping [`CHUNK`]-byte pieces (every `CHUNK`
/// bytes, plus one ending at its last byte). Secrets shorter than `CHUNK` cannot be watched.
///
/// # Panics
/// If the probe is armed, the secret is too short, or too many pieces are watched.
pub fn watch(label: &'static str, secret: &[u8]) {
    add(label, secret, false);
}

/// [`watch`] for a form of a secret that a dependency is known to leave behind: its hits are
/// counted and listed ([`Report::known_gap_hits`]) but do not make the report unclean. Each
/// use is a documented gap (`SECURITY.md`), kept visible instead of unwatched.
///
/// # Panics
/// As [`watch`].
pub fn watch_known_gap(label: &'static str, secret: &[u8]) {
    add(label, secret, true);
}

fn add(label: &'static str, secret: &[u8], known_gap: bool) {
    assert!(!ARMED.load(Ordering::Acquire), "watch() while armed");
    assert!(secret.len() >= CHUNK, "{label}: shorter than {CHUNK} bytes");
    let mut starts: Vec<usize> = (0..=secret.len() - CHUNK).step_by(CHUNK).collect();
    if starts.last() != Some(&(secret.len() - CHUNK)) {
        starts.push(secret.len() - CHUNK);
    }
    let mut state = lock(&STATE);
    for start in starts {
        assert!(state.count < MAX_NEEDLES, "too many watched pieces");
        let mut bytes = [0u8; CHUNK];
        bytes.copy_from_slice(&secret[start..start + CHUNK]);
        let index = state.count;
        state.needles[index] = Needle {
            prefix: prefix(&bytes),
            bytes,
            label,
            known_gap,
        };
        state.count += 1;
    }
}

/// Forgets every watched secret (and wipes the probe's copies of them).
///
/// # Panics
/// If the probe is armed.
pub fn unwatch_all() {
    assert!(!ARMED.load(Ordering::Acquire), "unwatch_all() while armed");
    let mut state = lock(&STATE);
    state.needles = [EMPTY_NEEDLE; MAX_NEEDLES];
    state.count = 0;
}

/// Starts checking every freed block; clears the hits of any earlier run.
pub fn arm() {
    let traces = std::env::var_os("ALLOC_PROBE_TRACES").is_some_and(|v| v == "1");
    lock(&TRACES).clear();
    {
        let mut state = lock(&STATE);
        let count = state.count;
        state.needles[..count].sort_unstable_by_key(|n| n.prefix);
        state.hits = [None; MAX_HITS];
        state.hit_count = 0;
        state.known_gap_count = 0;
        state.checked_blocks = 0;
        state.traces = traces;
    }
    ARMED.store(true, Ordering::Release);
}

/// Stops checking and reports what was found since [`arm`].
pub fn disarm() -> Report {
    ARMED.store(false, Ordering::Release);
    let state = lock(&STATE);
    Report {
        hits: state.hits.iter().flatten().copied().collect(),
        total_hits: state.hit_count,
        known_gap_hits: state.known_gap_count,
        checked_blocks: state.checked_blocks,
        traces: std::mem::take(&mut *lock(&TRACES)),
    }
}

/// Runs `f` with the probe armed and reports on it.
pub fn armed<R>(f: impl FnOnce() -> R) -> (R, Report) {
    arm();
    let result = f();
    (result, disarm())
}

/// What an armed run found.
#[derive(Debug)]
pub struct Report {
    /// The first hits (at most 64), known gaps included.
    pub hits: Vec<Hit>,
    /// Every hit of a secret watched with [`watch`], including those not kept in
    /// [`hits`](Self::hits).
    pub total_hits: usize,
    /// Every hit of a secret watched with [`watch_known_gap`].
    pub known_gap_hits: usize,
    /// How many freed blocks were checked.
    pub checked_blocks: usize,
    /// Backtraces of the hits, with `ALLOC_PROBE_TRACES=1`.
    pub traces: Vec<String>,
}

impl Report {
    /// No freed block held a piece of a watched secret.
    pub fn is_clean(&self) -> bool {
        self.total_hits == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} freed block(s) of {} held a watched secret ({} more a known gap)",
            self.total_hits, self.checked_blocks, self.known_gap_hits
        )?;
        for hit in &self.hits {
            let gap = if hit.known_gap { " (known gap)" } else { "" };
            writeln!(
                f,
                "  {} in a freed block of {} bytes at offset {}{gap}",
                hit.label, hit.block_size, hit.offset
            )?;
        }
        for trace in &self.traces {
            writeln!(f, "---\n{trace}")?;
        }
        Ok(())
    }
}
