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
    /// A numbered part of the lesson on the family page: `{n}` is its number.
    pub play_part: &'static str,
    /// The lesson page's button that opens the family card, and what to do with it.
    pub forward: &'static str,
    pub forward_hint: &'static str,
    pub family_kicker: &'static str,
    /// The heading of the lesson block on the family page: `{title}` is the lesson's title.
    pub family_lesson: &'static str,
    pub family_listen_all: &'static str,
    pub family_see_lesson: &'static str,
    pub family_help_title: &'static str,
    /// Hotlines as (number, what for).
    pub hotlines: [(&'static str, &'static str); 5],
    pub call: &'static str,
    pub more_help: &'static str,
    pub card_alt: &'static str,
}

pub const ZH: ReachUi = ReachUi {
    listen_all: "▶ 听一听",
    play_panel: "▶ 听这一格",
    play_section: "▶ 听这一段",
    play_question: "▶ 听题目",
    play_family: "▶ 听一听",
    pause: "❚❚ 暂停",
    in_mandarin: "",
    play_part: "▶ 第{n}段",
    forward: "转给家里人",
    forward_hint: "打开图片后长按，选“发送给朋友”，发给家里人。",
    family_kicker: "给家里人的话",
    family_lesson: "这一课：{title}",
    family_listen_all: "▶ 听整节课",
    family_see_lesson: "看完整的一课",
    family_help_title: "需要帮助时，马上打电话",
    hotlines: [
        ("110", "报警：有人正处在危险中"),
        ("120", "急救：有人受伤或生病"),
        ("12355", "青少年服务台：孩子受欺负、被打、心里有事"),
        ("12338", "妇女儿童维权：家庭暴力、性侵害"),
        ("12356", "心理援助：想不开的时候"),
    ],
    call: "拨打",
    more_help: "更多求助办法",
    card_alt: "这一课的家庭卡片：给家里人的话和二维码",
};

pub const EN: ReachUi = ReachUi {
    listen_all: "▶ Listen",
    play_panel: "▶ Play this panel",
    play_section: "▶ Play this part",
    play_question: "▶ Hear the question",
    play_family: "▶ Listen",
    pause: "❚❚ Pause",
    in_mandarin: " (in Mandarin)",
    play_part: "▶ Part {n}",
    forward: "Send to my family",
    forward_hint: "Open the picture, press and hold it, and choose \"Send to Friend\" to send it to your family.",
    family_kicker: "For the family at home",
    family_lesson: "This lesson: {title}",
    family_listen_all: "▶ Hear the whole lesson",
    family_see_lesson: "See the whole lesson",
    family_help_title: "When you need help, call now",
    hotlines: [
        ("110", "Police: someone is in danger"),
        ("120", "Ambulance: someone is hurt or ill"),
        (
            "12355",
            "Youth service line: a child is bullied, beaten or troubled",
        ),
        (
            "12338",
            "Women and children's rights: violence at home, sexual abuse",
        ),
        (
            "12356",
            "Mental health helpline: when you feel you cannot go on",
        ),
    ],
    call: "Call",
    more_help: "More ways to get help",
    card_alt: "This lesson's family card: the message for the family and a QR code",
};

pub fn reach_ui(lang: Lang) -> &'static ReachUi {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}
