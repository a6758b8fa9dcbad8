//! `/help`: hotlines to call now, each a tap-to-call link, in Chinese and English. The chat's
//! safeguarding and help replies link here.

use askama::Template;
use poem::web::Data;
use poem::{Response, handler};

use super::pages::{chrome, html, render};
use super::views::Chrome;
use crate::domain::Lang;
use crate::http::AppState;
use crate::http::error::AppError;

pub struct Hotline {
    pub number: &'static str,
    pub name: &'static str,
    pub when: &'static str,
}

pub struct HelpUi {
    pub title: &'static str,
    pub intro: &'static str,
    pub call: &'static str,
    pub hotlines: [Hotline; 4],
    pub not_alone: &'static str,
}

const ZH: HelpUi = HelpUi {
    title: "求助热线",
    intro: "如果您或孩子遇到危险、伤害或者心里很难受，请马上打电话。点号码就能拨打，电话免费或只收市话费。",
    call: "拨打",
    hotlines: [
        Hotline {
            number: "110",
            name: "报警电话：有人正处在危险中",
            when: "24小时",
        },
        Hotline {
            number: "12355",
            name: "青少年服务台：孩子受欺负、被打、心里有事",
            when: "各地时间不同",
        },
        Hotline {
            number: "12338",
            name: "妇女儿童维权热线：家庭暴力、性侵害",
            when: "工作时间",
        },
        Hotline {
            number: "12356",
            name: "心理援助热线：想不开、活不下去的时候",
            when: "24小时",
        },
    ],
    not_alone: "您不是一个人。说出来，就有人帮您。",
};

const EN: HelpUi = HelpUi {
    title: "Get help now",
    intro: "If you or a child are in danger, being hurt, or you feel you cannot go on, call now. Tap a number to call it; calls are free or cost a local call.",
    call: "Call",
    hotlines: [
        Hotline {
            number: "110",
            name: "Police: someone is in danger right now",
            when: "24 hours",
        },
        Hotline {
            number: "12355",
            name: "Youth service line: a child is bullied, beaten or troubled",
            when: "hours vary by city",
        },
        Hotline {
            number: "12338",
            name: "Women and children’s rights: violence at home, sexual abuse",
            when: "office hours",
        },
        Hotline {
            number: "12356",
            name: "Mental health helpline: when you feel you cannot go on",
            when: "24 hours",
        },
    ],
    not_alone: "You are not alone. Say it, and someone will help.",
};

#[derive(Template)]
#[template(path = "help.html")]
pub struct HelpPage {
    pub page: Chrome,
    pub h: &'static HelpUi,
}

#[handler]
pub async fn help_page(state: Data<&AppState>, lang: Lang) -> Result<Response, AppError> {
    let h = match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    };
    let page = HelpPage {
        page: chrome(&state, lang, h.title, "/help"),
        h,
    };
    Ok(html(render(&page)?))
}
