//! Interface strings of the reach features — listening, the family card and page, lessons for
//! a child's age, review — in Simplified Chinese and English.

use crate::domain::Lang;

pub struct ReachUi {
    /// The big button at the top of a lesson that plays it part by part.
    pub listen_all: &'static str,
    pub play_panel: &'static str,
    pub play_section: &'static str,
    pub play_question: &'static str,
    pub play_family: &'static str,
    pub pause: &'static str,
    /// Added to a button's label when the page's language has no recording and Mandarin plays.
    pub in_mandarin: &'static str,
}

pub const ZH: ReachUi = ReachUi {
    listen_all: "▶ 听一听",
    play_panel: "▶ 听这一格",
    play_section: "▶ 听这一段",
    play_question: "▶ 听题目",
    play_family: "▶ 听一听",
    pause: "❚❚ 暂停",
    in_mandarin: "",
};

pub const EN: ReachUi = ReachUi {
    listen_all: "▶ Listen",
    play_panel: "▶ Play this panel",
    play_section: "▶ Play this part",
    play_question: "▶ Hear the question",
    play_family: "▶ Listen",
    pause: "❚❚ Pause",
    in_mandarin: " (in Mandarin)",
};

pub fn reach_ui(lang: Lang) -> &'static ReachUi {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}
