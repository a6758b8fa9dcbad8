//! Web sign-in through WeChat (`snsapi_base`): a single-use `state` remembered with where to
//! go next, the code → openid exchange, and what the openid means — the learner it is bound to
//! (signed in on any phone), a learner signed in by cookie (now bound), or someone who has not
//! joined yet (the openid waits for their consent on the join page).

use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use sha2::{Digest, Sha256};

use super::followers;
use super::{Wechat, WechatError, millis};
use crate::services::Context;
use crate::services::enrollment::{CodeStatus, find_code, start_session};
use crate::store::entity::enrollment_code;
use crate::wechat::protocol::OpenId;

/// A sign-in must come back within this long.
const STATE_LIFETIME_MS: i64 = 10 * 60 * 1000;

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(format!("wechat-oauth:{state}").as_bytes()))
}

/// A path on this site to return to; anything else (other sites, odd forms) becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/wechat/oauth")
                && path.len() <= 512
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path.to_owned()
        }
        _ => "/".into(),
    }
}

/// Starts a sign-in: the state (to set in the browser's cookie too) and WeChat's authorize URL.
pub async fn start(
    ctx: &Context,
    wechat: &Wechat,
    next: &str,
) -> Result<(String, String), WechatError> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).expect("the operating system's random source");
    // WeChat allows a–z, A–Z and 0–9 in `state`, up to 128 bytes.
    let state = hex::encode(random);
    let now = millis(ctx.clock.now());
    let backend = ctx.db.get_database_backend();
    ctx.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO wechat_oauth_state (state_hash, next_path, created_at) VALUES ($1, $2, $3)",
            [state_hash(&state).into(), next.into(), now.into()],
        ))
        .await?;
    ctx.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "DELETE FROM wechat_oauth_state WHERE created_at < $1",
            [(now - STATE_LIFETIME_MS).into()],
        ))
        .await?;
    let redirect_uri = format!("{}/wechat/oauth/callback", ctx.settings.public_url());
    Ok((
        state.clone(),
        wechat.api.authorize_url(&redirect_uri, &state),
    ))
}

/// Uses up a state: where to go next, or `None` if it is unknown, used or too old.
pub async fn finish(ctx: &Context, state: &str) -> Result<Option<String>, WechatError> {
    if state.is_empty() || state.len() > 128 {
        return Ok(None);
    }
    let hash = state_hash(state);
    let backend = ctx.db.get_database_backend();
    let row = ctx
        .db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT next_path, created_at FROM wechat_oauth_state WHERE state_hash = $1",
            [hash.clone().into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let next: String = row.try_get("", "next_path")?;
    let created_at: i64 = row.try_get("", "created_at")?;
    // Whoever deletes the row used the state; a second use finds nothing to delete.
    let deleted = ctx
        .db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "DELETE FROM wechat_oauth_state WHERE state_hash = $1",
            [hash.into()],
        ))
        .await?;
    let fresh = millis(ctx.clock.now()) - created_at <= STATE_LIFETIME_MS;
    Ok((deleted.rows_affected() == 1 && fresh).then_some(next))
}

/// What an openid from a sign-in means.
#[derive(Debug)]
pub enum SignIn {
    /// The learner bound to the openid; a new session when they were not already signed in.
    Learner {
        learner_id: i64,
        session_token: Option<String>,
    },
    /// Nobody has joined with this openid: it waits for the join page — the page of the code
    /// they followed by scanning, when that code still takes people in.
    NotJoined { join_token: Option<String> },
}

/// Signs in by openid: the bound learner (whoever was signed in on this phone before), or the
/// learner signed in now, who gets the openid bound.
pub async fn sign_in(
    ctx: &Context,
    openid: &OpenId,
    current: Option<i64>,
) -> Result<SignIn, WechatError> {
    let now = ctx.clock.now();
    let follower = followers::find(ctx, openid).await?;
    let bound = follower.as_ref().and_then(|f| f.learner_id);
    match (bound, current) {
        (Some(learner_id), Some(current)) if learner_id == current => Ok(SignIn::Learner {
            learner_id,
            session_token: None,
        }),
        (Some(learner_id), _) => Ok(SignIn::Learner {
            learner_id,
            session_token: Some(start_session(&ctx.db, learner_id, now).await?),
        }),
        (None, Some(current)) => {
            followers::bind(ctx, openid, current, now).await?;
            Ok(SignIn::Learner {
                learner_id: current,
                session_token: None,
            })
        }
        (None, None) => {
            let join_token = match follower.and_then(|f| f.code_id) {
                Some(code_id) => usable_code_token(ctx, code_id, now).await?,
                None => None,
            };
            Ok(SignIn::NotJoined { join_token })
        }
    }
}

/// The token of the code `code_id` if it can still bring someone in.
async fn usable_code_token(
    ctx: &Context,
    code_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, WechatError> {
    let Some(code) = enrollment_code::Entity::find_by_id(code_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let info = find_code(&ctx.db, &code.token)
        .await
        .map_err(WechatError::Failed)?;
    Ok(info
        .filter(|c| c.status(now) == CodeStatus::Usable)
        .map(|c| c.token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        assert_eq!(
            safe_next(Some("/s/parents/praise?x=1")),
            "/s/parents/praise?x=1"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil",
            "evil",
            "/a b",
            "/wechat/oauth?next=/",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
