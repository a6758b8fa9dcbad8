//! `/studio/safeguarding`: for editors, how many chat messages each week matched each kind of
//! harm — so the programme can see whether its lessons reach the people who need help. Counts
//! only; under 5 is shown as “fewer than 5”.

use askama::Template;
use poem::web::Data;
use poem::{Request, Response, handler};

use super::i18n_staff::{StaffUi, staff_ui};
use super::pages::{chrome, html, render};
use super::views::Chrome;
use crate::domain::Lang;
use crate::domain::chat::text_in;
use crate::domain::suppress::Shown;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::staff_auth::{csrf_token, require};
use crate::services::staff::Staff;
use crate::services::wechat::safeguarding::weekly;

/// Weeks shown, newest first.
const WEEKS: u32 = 12;

struct Texts {
    title: &'static str,
    intro: &'static str,
    week_of: &'static str,
    fewer_than_5: &'static str,
}

const ZH: Texts = Texts {
    title: "求助信号",
    intro: "公众号收到的消息里，每周有多少条提到了下面这些伤害。我们不保存消息内容，也不记录是谁发的，只记次数；少于5次的不显示具体数字。每条这样的消息都会立刻收到求助热线。",
    week_of: "周（周一）",
    fewer_than_5: "少于5次",
};

const EN: Texts = Texts {
    title: "Safeguarding signals",
    intro: "How many messages to the WeChat account each week mentioned these kinds of harm. No message or sender is stored, only the counts; fewer than 5 is not shown exactly. Every such message got the hotlines at once.",
    week_of: "Week of (Monday)",
    fewer_than_5: "fewer than 5",
};

#[derive(Template)]
#[template(path = "studio_safeguarding.html")]
struct SafeguardingPage {
    page: Chrome,
    s: &'static StaffUi,
    t: &'static Texts,
    csrf: String,
    categories: Vec<String>,
    weeks: Vec<(String, Vec<String>)>,
}

#[handler]
pub async fn page(state: Data<&AppState>, lang: Lang, req: &Request) -> Result<Response, AppError> {
    let who = require(&state, req, Staff::can_edit).await?;
    let t = match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    };
    let chat = match state.wechat.as_deref() {
        Some(wechat) => wechat.chat.clone(),
        None => crate::content::wechat::embedded(),
    };
    let names: Vec<String> = chat.categories.iter().map(|c| c.name.clone()).collect();
    let counts = weekly(&state, &names, WEEKS, state.clock.now())
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let page = SafeguardingPage {
        page: chrome(&state, lang, t.title, "/studio/safeguarding"),
        s: staff_ui(lang),
        t,
        csrf: csrf_token(&state, &who),
        categories: chat
            .categories
            .iter()
            .map(|c| text_in(&c.label, lang).to_owned())
            .collect(),
        weeks: counts
            .into_iter()
            .map(|week| {
                let shown = week
                    .counts
                    .into_iter()
                    .map(|count| match count {
                        Shown::Count(n) => n.to_string(),
                        Shown::Hidden => t.fewer_than_5.to_owned(),
                    })
                    .collect();
                (week.week.to_string(), shown)
            })
            .collect(),
    };
    Ok(html(render(&page)?))
}
