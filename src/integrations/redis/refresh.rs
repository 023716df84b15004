//! Refresh tokens in Redis: rotation and reuse detection, atomic across every server.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::integrations::redis::{ttl_ms, Redis, RedisConfig};
use crate::issuer::refresh::{AsyncRefreshStore, FamilyId, RefreshGrant, RefreshTokenId, Rotation};
use crate::jose::base64url;
use crate::jose::thumbprint::Thumbprint;
use crate::time::UnixTime;

/// Rotates a token atomically. KEYS[1] the presented token, KEYS[2] its successor; ARGV: jkt,
/// client_id, family-key prefix, now (ms). Answers `unknown`, `wrong`, `reused` (family
/// revoked, no successor) or the presented token's record (now used, successor stored).
///
/// Every check comes before the first write, and the successor is written before the presented
/// token is marked used: if Redis refuses the successor (out of memory, a successor key that
/// exists), the script stops with an error and nothing changed. Once a script has written,
/// Redis lets its further writes through even when out of memory, so the mark cannot fail
/// after the successor landed.
const ROTATE: &str = r"
local raw = redis.call('GET', KEYS[1])
if not raw then return 'unknown' end
local record = cjson.decode(raw)
local now = tonumber(ARGV[4])
if record.expires_at * 1000 < now then return 'unknown' end
local family_key = ARGV[3] .. record.family
if redis.call('EXISTS', family_key) == 1 then return 'unknown' end
if record.jkt ~= ARGV[1] or record.client_id ~= ARGV[2] then return 'wrong' end
if record.used then
  local ttl = record.family_expires_at * 1000 - now
  if ttl < 1000 then ttl = 1000 end
  redis.call('SET', family_key, 1, 'PX', ttl)
  return 'reused'
end
local ttl = record.expires_at * 1000 + 1000 - now
if ttl < 1000 then ttl = 1000 end
if not redis.call('SET', KEYS[2], raw, 'PX', ttl, 'NX') then
  return redis.error_reply('refresh token successor exists')
end
record.used = true
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
return raw
";

/// The stored form of a grant.
#[derive(Serialize, Deserialize)]
struct Record {
    subject: String,
    client_id: String,
    scope: Option<String>,
    jkt: String,
    family: String,
    expires_at: u64,
    family_expires_at: u64,
    used: bool,
}

/// An [`AsyncRefreshStore`] in Redis. Tokens are stored under the hash of the token; a
/// rotation is one Lua script (checks, successor written, presented token marked used), so of
/// two concurrent uses of one token at most one succeeds and the other revokes the family, and
/// a failed rotation leaves the presented token live for the client's retry.
///
/// One case stays ambiguous: a reply lost after Redis ran the script (a timeout past
/// [`RedisConfig::timeout`], a dropped connection) is reported as
/// [`StoreError::Unavailable`] although the rotation happened; the client never saw the
/// successor, and its retry with the old token counts as reuse and revokes the family (fail
/// closed: the user signs in again).
#[derive(Clone, Debug)]
pub struct RedisRefreshStore {
    redis: Redis,
    script: redis::Script,
}

impl RedisRefreshStore {
    /// A store at `url`. Connects lazily; call within a Tokio runtime.
    pub fn open(url: &str, config: &RedisConfig) -> Result<Self, StoreError> {
        Ok(Self::on(Redis::open(url, config)?))
    }

    /// A store on an opened connection.
    pub(crate) fn on(redis: Redis) -> Self {
        Self {
            redis,
            script: redis::Script::new(ROTATE),
        }
    }

    fn family_prefix(&self) -> String {
        format!("{}rtf:", self.redis.prefix)
    }
}

fn to_grant(record: Record) -> Option<RefreshGrant> {
    let family: [u8; 16] = base64url::decode_array(&record.family).ok()?;
    Some(RefreshGrant {
        subject: record.subject,
        client_id: record.client_id,
        scope: record.scope,
        jkt: Thumbprint::from_base64url(&record.jkt).ok()?,
        family: FamilyId(family),
        expires_at: UnixTime::from_secs(record.expires_at),
        family_expires_at: UnixTime::from_secs(record.family_expires_at),
    })
}

impl AsyncRefreshStore for RedisRefreshStore {
    async fn insert(
        &self,
        id: RefreshTokenId,
        grant: RefreshGrant,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let record = Record {
            subject: grant.subject,
            client_id: grant.client_id,
            scope: grant.scope,
            jkt: grant.jkt.to_base64url(),
            family: base64url::encode(&grant.family.0),
            expires_at: grant.expires_at.as_secs(),
            family_expires_at: grant.family_expires_at.as_secs(),
            used: false,
        };
        let json = serde_json::to_string(&record).map_err(|_| StoreError::Unavailable)?;
        let name = self.redis.key("rt", id.as_bytes());
        let ttl = ttl_ms(grant.expires_at, now);
        let _: () = self
            .redis
            .run(|mut connection| async move {
                redis::cmd("SET")
                    .arg(&name)
                    .arg(&json)
                    .arg("PX")
                    .arg(ttl)
                    .query_async(&mut connection)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn rotate(
        &self,
        id: &RefreshTokenId,
        client_id: &str,
        jkt: &Thumbprint,
        next: RefreshTokenId,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        let name = self.redis.key("rt", id.as_bytes());
        let next_name = self.redis.key("rt", next.as_bytes());
        let script = self.script.clone();
        let (jkt, client_id, families) = (
            jkt.to_base64url(),
            client_id.to_owned(),
            self.family_prefix(),
        );
        let now_ms = now.as_secs().saturating_mul(1000);
        let answer: String = self
            .redis
            .run(|mut connection| async move {
                script
                    .key(&name)
                    .key(&next_name)
                    .arg(&jkt)
                    .arg(&client_id)
                    .arg(&families)
                    .arg(now_ms)
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        Ok(match answer.as_str() {
            "unknown" => Rotation::Unknown,
            "wrong" => Rotation::WrongKey,
            "reused" => Rotation::Reused,
            // The script has rotated; a record this crate cannot read back (written by
            // something else) yields no grant, and neither token is usable through it.
            raw => match serde_json::from_str::<Record>(raw).ok().and_then(to_grant) {
                Some(grant) => Rotation::Rotated(grant),
                None => Rotation::Unknown,
            },
        })
    }

    async fn revoke_family(&self, family: &FamilyId, until: UnixTime) -> Result<(), StoreError> {
        let name = format!("{}{}", self.family_prefix(), base64url::encode(&family.0));
        // Absolute expiry: the family lives until `until` (days away; clock skew is immaterial).
        let at_ms = until.as_secs().saturating_add(1).saturating_mul(1000);
        let _: () = self
            .redis
            .run(|mut connection| async move {
                redis::cmd("SET")
                    .arg(&name)
                    .arg(1)
                    .arg("PXAT")
                    .arg(at_ms)
                    .query_async(&mut connection)
                    .await
            })
            .await?;
        Ok(())
    }
}
