//! What the account answers each message and event with, and what each changes: follows and
//! scans (attributed to the code, line and factory), unfollows, menu clicks, keywords,
//! safeguarding words (answered with hotlines and counted, never stored), and a short menu for
//! anything else. A retry of a message already handled gets the same kind of answer but
//! changes nothing again.

use chrono::{DateTime, Utc};

use super::followers;
use super::qr::code_for_scene;
use super::review;
use super::safeguarding::count_match;
use super::{Wechat, WechatError};
use crate::domain::catalog::{LessonEntry, SeriesEntry};
use crate::domain::chat::{Intent, fill, text_in};
use crate::domain::{Audience, Lang};
use crate::services::enrollment::{self, CodeStatus};
use crate::services::progress::overview;
use crate::services::push::prefs;
use crate::services::{Context, accounts, ages, lessons};
use crate::store::entity::wechat_follower;
use crate::wechat::protocol::{Article, Event, Incoming, MessageKind, OpenId, Reply, SceneStr};

/// Scans are counted once a day per phone; a WeChat follower counts as one phone.
fn scan_device_hash(openid: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("device:wechat:{openid}").as_bytes()))
}

/// Who sent a message: their openid, their follower row (if any) and the language to answer in.
struct Sender<'a> {
    openid: &'a OpenId,
    follower: Option<wechat_follower::Model>,
    lang: Lang,
}

impl<'a> Sender<'a> {
    async fn of(ctx: &Context, openid: &'a OpenId) -> Result<Sender<'a>, WechatError> {
        let follower = followers::find(ctx, openid).await?;
        let lang = followers::lang_of(ctx, follower.as_ref()).await?;
        Ok(Sender {
            openid,
            follower,
            lang,
        })
    }
}

/// Links in replies are absolute, on the public URL.
fn link(ctx: &Context, path: &str) -> String {
    format!("{}{path}", ctx.settings.public_url())
}

/// The sign-in link that lands on `next`: WeChat's browser opens it already signed in.
fn signed_in_link(ctx: &Context, next: &str) -> String {
    let mut query = url_encode(next);
    query.insert_str(0, "/wechat/oauth?next=");
    link(ctx, &query)
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn help_link(ctx: &Context, lang: Lang) -> String {
    link(ctx, &format!("/help?lang={}", lang.code()))
}

/// The series a follower reads: their learner's audience, else the parents'; and their learner.
async fn audience_of(
    ctx: &Context,
    follower: Option<&wechat_follower::Model>,
) -> Result<(Audience, Option<accounts::Account>), WechatError> {
    if let Some(learner_id) = follower.and_then(|f| f.learner_id)
        && let Some(account) = accounts::account(&ctx.db, learner_id).await?
    {
        return Ok((account.audience(), Some(account)));
    }
    Ok((Audience::Parents, None))
}

/// The lesson of the audience's series a learner is on (this week's, or their own in a series
/// paced from joining), if one is out.
async fn current_lesson(
    ctx: &Context,
    audience: Audience,
    learner: Option<&accounts::Account>,
) -> Result<Option<(SeriesEntry, LessonEntry)>, WechatError> {
    let catalog = lessons::catalog(ctx).await?;
    let now = ctx.clock.now();
    Ok(catalog
        .series
        .iter()
        .find(|s| s.audience == audience)
        .and_then(|s| {
            s.current_for(learner.map(|a| a.learner.created_at), now)
                .map(|l| (s.clone(), l.clone()))
        }))
}

fn lesson_path(series: &SeriesEntry, lesson: &LessonEntry) -> String {
    format!("/s/{}/{}", series.slug, lesson.slug)
}

/// With the children's consent, a lesson for their ages comes first: this week's if it is one,
/// else the newest released one for their ages not completed yet. Without it, this week's.
async fn for_children_first(
    ctx: &Context,
    learner: Option<i64>,
    series: &SeriesEntry,
    current: LessonEntry,
    children: &[String],
) -> Result<LessonEntry, WechatError> {
    let Some(learner_id) = learner else {
        return Ok(current);
    };
    if children.is_empty() || crate::domain::ages::suits(&current.age_bands, children) {
        return Ok(current);
    }
    let records = crate::services::progress::records(ctx, learner_id).await?;
    let now = ctx.clock.now();
    Ok(series
        .released(now)
        .into_iter()
        .rev()
        .find(|l| {
            crate::domain::ages::suits(&l.age_bands, children)
                && records.get(&l.id).is_none_or(|r| r.completed_at.is_none())
        })
        .cloned()
        .unwrap_or(current))
}

async fn this_week(
    ctx: &Context,
    wechat: &Wechat,
    follower: Option<&wechat_follower::Model>,
    lang: Lang,
) -> Result<Reply, WechatError> {
    let texts = &wechat.chat.texts;
    let (audience, learner) = audience_of(ctx, follower).await?;
    let Some((series, current)) = current_lesson(ctx, audience, learner.as_ref()).await? else {
        return Ok(Reply::Text(text_in(&texts.nothing_yet, lang).to_owned()));
    };
    let learner_id = learner.as_ref().map(|a| a.learner.id);
    let children = match learner_id {
        Some(learner_id) => ages::consented_bands(&ctx.db, learner_id).await?,
        None => Vec::new(),
    };
    let lesson = for_children_first(ctx, learner_id, &series, current, &children).await?;
    let age = crate::domain::ages::suits(&lesson.age_bands, &children)
        .then(|| crate::domain::ages::label(&lesson.age_bands, lang))
        .flatten();
    let cover = lesson
        .media
        .iter()
        .find(|m| m.content_type.starts_with("image/"))
        .map(|m| {
            link(
                ctx,
                &format!("/media/{}/{}/{}", series.slug, lesson.slug, m.name),
            )
        })
        .unwrap_or_default();
    let week = lesson.week.to_string();
    let summary = lesson.summary.get(lang);
    let mut note = fill(text_in(&texts.this_week, lang), &[("week", &week)]);
    if let Some(age) = age {
        note = format!("{age} · {note}");
    }
    Ok(Reply::News(Article {
        title: text_in(&lesson.title, lang).to_owned(),
        description: if summary.trim().is_empty() {
            note
        } else {
            format!("{summary}\n{note}")
        },
        pic_url: cover,
        url: link(ctx, &lesson_path(&series, &lesson)),
    }))
}

/// The answer to what only a learner can ask for, from someone who has not joined.
fn join_first(ctx: &Context, wechat: &Wechat, lang: Lang) -> Reply {
    Reply::Text(fill(
        text_in(&wechat.chat.texts.join_first, lang),
        &[("link", &link(ctx, "/"))],
    ))
}

async fn progress(
    ctx: &Context,
    wechat: &Wechat,
    follower: Option<&wechat_follower::Model>,
    lang: Lang,
) -> Result<Reply, WechatError> {
    let texts = &wechat.chat.texts;
    let (audience, learner) = audience_of(ctx, follower).await?;
    let Some(account) = learner else {
        return Ok(join_first(ctx, wechat, lang));
    };
    let overview = overview(ctx, &account).await?;
    let own = overview
        .series
        .iter()
        .find(|s| s.series.audience == audience);
    let (done, total, streak) =
        own.map_or((0, 0, 0), |s| (s.completed, s.released.len(), s.streak));
    let text = fill(
        text_in(&texts.progress, lang),
        &[
            ("done", &done.to_string()),
            ("total", &total.to_string()),
            ("streak", &streak.to_string()),
            ("link", &signed_in_link(ctx, "/")),
        ],
    );
    Ok(Reply::Text(text))
}

async fn intent_reply(
    ctx: &Context,
    wechat: &Wechat,
    sender: &Sender<'_>,
    intent: Intent,
    first: bool,
    now: DateTime<Utc>,
) -> Result<Reply, WechatError> {
    let texts = &wechat.chat.texts;
    let (follower, lang) = (sender.follower.as_ref(), sender.lang);
    match intent {
        Intent::ThisWeek => this_week(ctx, wechat, follower, lang).await,
        Intent::Progress => progress(ctx, wechat, follower, lang).await,
        Intent::Review => match follower.and_then(|f| f.learner_id) {
            Some(learner_id) => Ok(Reply::Text(
                review::card(ctx, wechat, learner_id, lang).await?,
            )),
            None => Ok(join_first(ctx, wechat, lang)),
        },
        Intent::Help => Ok(Reply::Text(fill(
            text_in(&texts.help, lang),
            &[("help", &help_link(ctx, lang))],
        ))),
        Intent::English | Intent::Chinese => {
            let chosen = if intent == Intent::English {
                Lang::En
            } else {
                Lang::Zh
            };
            if first {
                followers::set_lang(ctx, sender.openid, chosen, now).await?;
            }
            Ok(Reply::Text(text_in(&texts.language_set, chosen).to_owned()))
        }
    }
}

/// The answer to a follow or scan of `scene`; attributes it when `first` and the code is usable.
async fn scanned(
    ctx: &Context,
    wechat: &Wechat,
    openid: &OpenId,
    scene: Option<&SceneStr>,
    first: bool,
    now: DateTime<Utc>,
) -> Result<Reply, WechatError> {
    let texts = &wechat.chat.texts;
    let code = match scene {
        Some(scene) => code_for_scene(ctx, scene).await?,
        None => None,
    };
    let usable = code
        .as_ref()
        .filter(|c| c.status(now) == CodeStatus::Usable);
    let follower = if first {
        let follower = followers::followed(ctx, openid, usable.map(|c| c.id), now).await?;
        if let Some(code) = usable {
            let device = openid.as_str();
            enrollment::record_scan(&ctx.db, code.id, &scan_device_hash(device), now).await?;
            tracing::info!(
                code_id = code.id,
                factory_id = code.factory_id,
                "WeChat scan attributed"
            );
        }
        Some(follower)
    } else {
        followers::find(ctx, openid).await?
    };
    let lang = followers::lang_of(ctx, follower.as_ref()).await?;
    let (audience, learner) = audience_of(ctx, follower.as_ref()).await?;
    let lesson_link = match current_lesson(ctx, audience, learner.as_ref()).await? {
        Some((series, lesson)) => signed_in_link(ctx, &lesson_path(&series, &lesson)),
        None => signed_in_link(ctx, "/"),
    };
    let text = match (code.as_ref(), usable, learner) {
        (Some(_), _, Some(_)) => fill(
            text_in(&texts.welcome_back, lang),
            &[("link", &lesson_link)],
        ),
        (Some(code), Some(_), None) => fill(
            text_in(&texts.welcome_code, lang),
            &[
                ("factory", code.factory_name.get(lang)),
                (
                    "link",
                    &signed_in_link(ctx, &format!("/join/{}", code.token)),
                ),
            ],
        ),
        (Some(_), None, None) => fill(text_in(&texts.code_closed, lang), &[("link", &lesson_link)]),
        (None, _, _) => fill(text_in(&texts.welcome, lang), &[("link", &lesson_link)]),
    };
    Ok(Reply::Text(text))
}

fn menu_reply(ctx: &Context, wechat: &Wechat, lang: Lang) -> Reply {
    Reply::Text(fill(
        text_in(&wechat.chat.texts.menu, lang),
        &[("help", &help_link(ctx, lang))],
    ))
}

/// Answers one message or event. `first` is false for WeChat's retries of a message already
/// handled: the answer is made again, nothing is changed or counted again.
pub async fn respond(
    ctx: &Context,
    wechat: &Wechat,
    message: &Incoming,
    first: bool,
) -> Result<Option<Reply>, WechatError> {
    let now = ctx.clock.now();
    let openid = &message.from;
    match &message.kind {
        MessageKind::Event(Event::Subscribe { scene, .. }) => Ok(Some(
            scanned(ctx, wechat, openid, scene.as_ref(), first, now).await?,
        )),
        MessageKind::Event(Event::Scan { scene, .. }) => Ok(Some(
            scanned(ctx, wechat, openid, Some(scene), first, now).await?,
        )),
        MessageKind::Event(Event::Unsubscribe) => {
            if first {
                followers::unfollowed(ctx, openid, now).await?;
            }
            Ok(None)
        }
        MessageKind::Event(Event::Click { key }) => {
            let sender = Sender::of(ctx, openid).await?;
            match Intent::parse(key) {
                Some(intent) => Ok(Some(
                    intent_reply(ctx, wechat, &sender, intent, first, now).await?,
                )),
                None => Ok(Some(menu_reply(ctx, wechat, sender.lang))),
            }
        }
        MessageKind::Event(_) => Ok(None),
        MessageKind::Text { content, .. } => {
            let sender = Sender::of(ctx, openid).await?;
            let lang = sender.lang;
            if let Some(category) = wechat.chat.safeguarding_match(content) {
                if first {
                    count_match(ctx, &category.name, now).await?;
                    metrics::counter!("wechat_safeguarding_replies_total").increment(1);
                }
                let text = fill(
                    text_in(&wechat.chat.safeguarding_reply, lang),
                    &[("help", &help_link(ctx, lang))],
                );
                return Ok(Some(Reply::Text(text)));
            }
            if prefs::is_stop_word(content) {
                if let Some(learner_id) = sender.follower.as_ref().and_then(|f| f.learner_id) {
                    prefs::set_muted(ctx, learner_id, true).await?;
                }
                return Ok(Some(Reply::Text(
                    text_in(&prefs::stopped_reply(), lang).to_owned(),
                )));
            }
            if let Some(intent) = wechat.chat.intent(content) {
                return Ok(Some(
                    intent_reply(ctx, wechat, &sender, intent, first, now).await?,
                ));
            }
            // Choice letters from a learner with questions due answer their review card.
            if let Some(learner_id) = sender.follower.as_ref().and_then(|f| f.learner_id)
                && let Some(text) =
                    review::answer(ctx, wechat, learner_id, content, first, lang).await?
            {
                return Ok(Some(Reply::Text(text)));
            }
            Ok(Some(menu_reply(ctx, wechat, lang)))
        }
        // Voice, pictures and the like: the menu, so nobody who cannot type is left unanswered.
        MessageKind::Other { .. } => {
            let sender = Sender::of(ctx, openid).await?;
            Ok(Some(menu_reply(ctx, wechat, sender.lang)))
        }
    }
}
