//! Authentication primitives: argon2id password hashes and session tokens.
//!
//! Tokens are 256 random bits shown to the client once; the store keeps only their
//! SHA-256, so a leaked database cannot be replayed as sessions.
//!
//! Hashing is bounded. Each argon2id computation needs 19 MiB of working memory;
//! left alone, every login attempt would allocate its own, as many at once as
//! clients send, and the allocator keeps what it was given. Instead the process
//! holds at most [`hash_lanes`] working memories (one per core, at most four),
//! created on first use and reused for every hash after that, so password hashing
//! never holds more than `hash_lanes() × 19 MiB`. A caller that cannot get one
//! within its deadline is refused with `RATE_LIMITED` (and a retry delay) instead
//! of queueing without end. Async callers wait on a semaphore, not on a blocking
//! thread, so a flood of logins cannot occupy the threads other requests read on.

use std::sync::{Condvar, LazyLock, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// How long a session lasts unless configured otherwise.
pub const DEFAULT_SESSION_TTL: chrono::Duration = chrono::Duration::days(30);

/// argon2id memory cost in KiB (OWASP's first recommended configuration: 19 MiB,
/// 2 passes, 1 lane).
pub const HASH_MEMORY_KIB: u32 = 19 * 1024;
const HASH_PASSES: u32 = 2;
const HASH_LANES_PER_HASH: u32 = 1;

/// How long a blocking caller waits for hashing memory unless it says otherwise.
pub const DEFAULT_HASH_WAIT: Duration = Duration::from_secs(3);

/// What a login with an unknown email is verified against: a well-formed hash
/// with the parameters of every stored hash (and no known password), so such a
/// login costs exactly what a wrong password costs.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Z0Nw+ZDbUg9G4kSiMfRK6w$z8Z3gRZbmtxu1vGa/R3qezfYJE8oA2NEoLB9c2wGLoc";

fn params() -> Params {
    Params::new(HASH_MEMORY_KIB, HASH_PASSES, HASH_LANES_PER_HASH, None)
        .expect("constant argon2 params are valid")
}

/// How many password hashes may run at once in this process: one per core, at
/// most four (so at most 76 MiB of hashing memory).
pub fn hash_lanes() -> usize {
    static LANES: LazyLock<usize> = LazyLock::new(|| {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, 4)
    });
    *LANES
}

/// The process's argon2 working memories: at most [`hash_lanes`], each created the
/// first time it is needed and then reused.
struct Memories {
    state: Mutex<MemoryState>,
    returned: Condvar,
    /// Async callers queue here (FIFO) before they take a thread.
    gate: tokio::sync::Semaphore,
}

struct MemoryState {
    free: Vec<Box<[Block]>>,
    created: usize,
}

static MEMORIES: LazyLock<Memories> = LazyLock::new(|| Memories {
    state: Mutex::new(MemoryState {
        free: Vec::new(),
        created: 0,
    }),
    returned: Condvar::new(),
    gate: tokio::sync::Semaphore::new(hash_lanes()),
});

/// One working memory, given back when dropped.
struct Memory(Option<Box<[Block]>>);

impl Memory {
    fn blocks(&mut self) -> &mut [Block] {
        self.0.as_deref_mut().unwrap_or_default()
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        if let Some(blocks) = self.0.take() {
            let mut state = MEMORIES
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.free.push(blocks);
            drop(state);
            MEMORIES.returned.notify_one();
        }
    }
}

/// The refusal when hashing memory does not free up in time.
fn busy() -> Error {
    Error::RateLimited {
        retry_after_secs: 1,
    }
}

/// Takes a working memory, waiting until `deadline` at most.
fn take_memory(deadline: Instant) -> Result<Memory> {
    let mut state = MEMORIES
        .state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        if let Some(blocks) = state.free.pop() {
            return Ok(Memory(Some(blocks)));
        }
        if state.created < hash_lanes() {
            state.created += 1;
            drop(state);
            let blocks = vec![Block::default(); params().block_count()].into_boxed_slice();
            return Ok(Memory(Some(blocks)));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(busy());
        }
        state = MEMORIES
            .returned
            .wait_timeout(state, left)
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0;
    }
}

/// Hashes a password with argon2id and a random salt, as a PHC string; waits
/// [`DEFAULT_HASH_WAIT`] at most for hashing memory. Blocks the calling thread.
pub fn hash_password(password: &str) -> Result<String> {
    hash_with(password, Instant::now() + DEFAULT_HASH_WAIT)
}

fn hash_with(password: &str, deadline: Instant) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| Error::failed("decoding the salt", e))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
    let mut memory = take_memory(deadline)?;
    let hash = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        let blocks = memory.blocks();
        Ok(argon.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, blocks)?)
    })
    .map_err(|e| Error::failed("hashing the password", e))?;
    drop(memory);
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params())
            .map_err(|e| Error::failed("encoding the argon2 parameters", e))?,
        salt: Some(salt.as_salt()),
        hash: Some(hash),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `hash`; waits [`DEFAULT_HASH_WAIT`]
/// at most for hashing memory. A malformed hash, or one that needs more memory
/// than a working memory holds, never matches. Blocks the calling thread.
pub fn verify_password(password: &str, hash: &str) -> Result<bool> {
    verify_with(password, hash, Instant::now() + DEFAULT_HASH_WAIT)
}

fn verify_with(password: &str, hash: &str, deadline: Instant) -> Result<bool> {
    let Some((argon, salt, expected)) = parse_hash(hash) else {
        return Ok(false);
    };
    let mut memory = take_memory(deadline)?;
    let computed = Output::init_with(expected.len(), |out| {
        let blocks = memory.blocks();
        Ok(argon.hash_password_into_with_memory(password.as_bytes(), &salt, out, blocks)?)
    });
    drop(memory);
    // `Output`'s equality is constant-time.
    Ok(computed.is_ok_and(|computed| computed == expected))
}

/// The hasher, raw salt and expected output a PHC string names.
fn parse_hash(hash: &str) -> Option<(Argon2<'static>, Vec<u8>, Output)> {
    let parsed = PasswordHash::new(hash).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    if params.block_count() > self::params().block_count() {
        return None;
    }
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?.to_vec();
    let expected = parsed.hash?;
    Some((Argon2::new(algorithm, version, params), salt, expected))
}

/// A turn to hash: held by an async caller from before it takes a thread until
/// its hashing is done, so at most [`hash_lanes`] logins, signups or password
/// changes occupy threads at once and the rest wait without one.
pub struct HashTurn {
    _permit: tokio::sync::SemaphorePermit<'static>,
    deadline: Instant,
}

impl std::fmt::Debug for HashTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashTurn").finish_non_exhaustive()
    }
}

/// Waits at most `wait` for a turn to hash (first come, first served); past it,
/// `RATE_LIMITED` with a retry after 1 s.
pub async fn hash_turn(wait: Duration) -> Result<HashTurn> {
    let deadline = Instant::now() + wait;
    let permit = tokio::time::timeout(wait, MEMORIES.gate.acquire())
        .await
        .map_err(|_| busy())?
        .map_err(|_| Error::Internal("the hashing gate closed".into()))?;
    Ok(HashTurn {
        _permit: permit,
        deadline,
    })
}

impl HashTurn {
    /// [`hash_password`] within this turn. Blocks the calling thread.
    pub fn hash(&self, password: &str) -> Result<String> {
        hash_with(
            password,
            self.deadline.max(Instant::now() + DEFAULT_HASH_WAIT),
        )
    }

    /// [`verify_password`] within this turn. Blocks the calling thread.
    pub fn verify(&self, password: &str, hash: &str) -> Result<bool> {
        verify_with(
            password,
            hash,
            self.deadline.max(Instant::now() + DEFAULT_HASH_WAIT),
        )
    }
}

/// A new random session token (64 hex characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random invite code for private studies: 10 characters without look-alikes.
pub fn new_invite_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let hash = hash_password("password123").expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("password123", &hash).expect("verify"));
        assert!(!verify_password("password124", &hash).expect("verify"));
        assert!(!verify_password("password123", "not a hash").expect("verify"));
        assert_ne!(hash, hash_password("password123").expect("hash"), "salted");
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_itself_verify() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"correct horse", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_password("correct horse", &theirs).expect("verify"));
        assert!(!verify_password("correct horsE", &theirs).expect("verify"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_stored_hash_costs() {
        let (argon, salt, expected) = parse_hash(DUMMY_HASH).expect("well-formed");
        let (ours, dummy) = (params(), argon.params().clone());
        assert_eq!(
            (dummy.m_cost(), dummy.t_cost(), dummy.p_cost()),
            (ours.m_cost(), ours.t_cost(), ours.p_cost()),
            "same memory, passes and lanes"
        );
        assert_eq!(salt.len(), 16);
        assert_eq!(expected.len(), Params::DEFAULT_OUTPUT_LEN);
        let stored = hash_password("password123").expect("hash");
        assert_eq!(
            PasswordHash::new(DUMMY_HASH).expect("parse").params,
            PasswordHash::new(&stored).expect("parse").params
        );
        assert!(!verify_password("password123", DUMMY_HASH).expect("verify"));
    }

    #[test]
    fn hashing_memory_is_bounded_and_refused_past_the_deadline() {
        // Hold every working memory (waiting for other tests' hashes to finish).
        let held: Vec<Memory> = (0..hash_lanes())
            .map(|_| take_memory(Instant::now() + Duration::from_secs(30)).expect("memory"))
            .collect();
        let started = Instant::now();
        let refused = hash_with("password123", Instant::now() + Duration::from_millis(50))
            .expect_err("no memory left");
        assert!(matches!(
            refused,
            Error::RateLimited {
                retry_after_secs: 1
            }
        ));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "refused at the deadline"
        );
        let refused = verify_with("x", DUMMY_HASH, Instant::now()).expect_err("no memory left");
        assert!(matches!(refused, Error::RateLimited { .. }));
        {
            let state = MEMORIES.state.lock().expect("lock");
            assert_eq!(state.created, hash_lanes(), "never more than one per lane");
        }
        // A malformed hash needs no memory: it is refused at once.
        assert!(!verify_with("x", "$argon2id$broken", Instant::now()).expect("no wait"));
        drop(held);
        let hash = hash_with("password123", Instant::now() + Duration::from_secs(30));
        assert!(hash.is_ok(), "memory given back is used again");
        assert_eq!(
            MEMORIES.state.lock().expect("lock").created,
            hash_lanes(),
            "reused, not created anew"
        );
    }

    #[tokio::test]
    async fn async_callers_wait_for_a_turn_then_are_refused() {
        let turns: Vec<HashTurn> = take_turns(hash_lanes()).await;
        let started = Instant::now();
        let refused = hash_turn(Duration::from_millis(50))
            .await
            .expect_err("every turn is taken");
        assert_eq!(refused.code(), crate::ErrorCode::RateLimited);
        assert!(started.elapsed() < Duration::from_secs(2));
        let hash = turns[0].hash("password123").expect("hash in a held turn");
        assert!(turns[0].verify("password123", &hash).expect("verify"));
        drop(turns);
        let turn = hash_turn(Duration::from_secs(30))
            .await
            .expect("a turn is free again");
        assert!(!turn.verify("password124", &hash).expect("verify"));
    }

    /// Takes `n` turns, one after another.
    async fn take_turns(n: usize) -> Vec<HashTurn> {
        let mut turns = Vec::new();
        for _ in 0..n {
            turns.push(hash_turn(Duration::from_secs(30)).await.expect("turn"));
        }
        turns
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
        let code = new_invite_code();
        assert_eq!(code.len(), 10);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }
}
