//! Tokens kept until shortly before they expire; one fetch per kind of token, however
//! many calls wait for it.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Want;
use super::error::Failure;

/// How long before its expiry a token is replaced: Google's client libraries' margin
/// (3 minutes 45 seconds), so that a token is never sent in its last minutes.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(225);

/// A token and when to stop using it.
struct Kept {
    token: String,
    refresh_at: Instant,
}

/// One slot per kind of token; a slot's lock is held while its token is fetched, so
/// calls that need the same token wait for that one fetch instead of starting their own.
#[derive(Default)]
pub(crate) struct TokenCache {
    slots: Mutex<BTreeMap<Want, Arc<tokio::sync::Mutex<Option<Kept>>>>>,
}

/// The kinds of token only: the tokens are secrets.
impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_set().entries(slots.keys()).finish()
    }
}

impl TokenCache {
    /// The kept token for `want` while it is fresh; otherwise the one `fetch` gives (a
    /// token and how long it lives from the moment `fetch` started), kept from now on.
    pub(crate) async fn get(
        &self,
        want: &Want,
        fetch: impl Future<Output = Result<(String, Duration), Failure>>,
    ) -> Result<String, Failure> {
        let slot = Arc::clone(
            self.slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(want.clone())
                .or_default(),
        );
        let mut kept = slot.lock().await;
        if let Some(k) = kept.as_ref()
            && Instant::now() < k.refresh_at
        {
            return Ok(k.token.clone());
        }
        let asked = Instant::now();
        let (token, lifetime) = fetch.await?;
        *kept = Some(Kept {
            token: token.clone(),
            refresh_at: asked + lifetime.saturating_sub(REFRESH_MARGIN),
        });
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn want() -> Want {
        Want::Access("scope")
    }

    async fn counted(calls: &AtomicU32, lifetime: Duration) -> Result<(String, Duration), Failure> {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok((format!("token-{n}"), lifetime))
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TokenCache::default());
        let calls = Arc::new(AtomicU32::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
                tokio::spawn(async move {
                    cache
                        .get(&want(), counted(&calls, Duration::from_secs(3600)))
                        .await
                        .ok()
                })
            })
            .collect();
        let mut tokens = Vec::new();
        for t in tasks {
            tokens.push(t.await.ok().flatten());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            tokens.iter().all(|t| t.as_deref() == Some("token-1")),
            "{tokens:?}"
        );
    }

    #[tokio::test]
    async fn a_token_within_the_margin_of_its_expiry_is_replaced() {
        let cache = TokenCache::default();
        let calls = AtomicU32::new(0);
        // Lives 3 minutes: already inside the margin, so never reused.
        let short = Duration::from_secs(180);
        let first = cache.get(&want(), counted(&calls, short)).await.ok();
        let second = cache.get(&want(), counted(&calls, short)).await.ok();
        assert_eq!(first.as_deref(), Some("token-1"));
        assert_eq!(second.as_deref(), Some("token-2"));
        // Lives an hour: kept.
        let long = Duration::from_secs(3600);
        let third = cache.get(&want(), counted(&calls, long)).await.ok();
        let fourth = cache.get(&want(), counted(&calls, long)).await.ok();
        assert_eq!(third.as_deref(), Some("token-3"));
        assert_eq!(fourth.as_deref(), Some("token-3"));
    }

    #[tokio::test]
    async fn kinds_of_token_are_kept_apart() {
        let cache = TokenCache::default();
        let calls = AtomicU32::new(0);
        let long = Duration::from_secs(3600);
        let a = cache.get(&want(), counted(&calls, long)).await.ok();
        let b = cache
            .get(&Want::Identity("aud".into()), counted(&calls, long))
            .await
            .ok();
        assert_eq!(
            (a.as_deref(), b.as_deref()),
            (Some("token-1"), Some("token-2"))
        );
        assert_eq!(
            format!("{cache:?}"),
            r#"{Access("scope"), Identity("aud")}"#
        );
    }
}
