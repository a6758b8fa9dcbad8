//! Every learner-facing interface string, in Simplified Chinese and English. (How a request
//! picks its language is `http::lang`.)

use chrono::{DateTime, Datelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::domain::{Audience, Lang, LessonKind};

/// Interface strings for one language.
pub struct Ui {
    pub site_name: &'static str,
    pub tagline: &'static str,
    pub switch_to: &'static str,
    pub me: &'static str,
    pub home: &'static str,
    pub this_week: &'static str,
    pub all_lessons: &'static str,
    pub released_count: &'static str,
    pub next_lesson: &'static str,
    pub no_more_scheduled: &'static str,
    pub nothing_yet: &'static str,
    pub week: &'static str,
    pub released_on: &'static str,
    pub read_lesson: &'static str,
    pub transcript: &'static str,
    pub video_fallback: &'static str,
    pub quiz: &'static str,
    pub quiz_intro: &'static str,
    /// The hint after a question, with its brackets.
    pub pick_one: &'static str,
    pub pick_all: &'static str,
    /// Between the texts of several answers.
    pub list_separator: &'static str,
    /// Under a video: its length (`{}` is m:ss).
    pub video_length: &'static str,
    pub check_answers: &'static str,
    pub your_score: &'static str,
    pub passed: &'static str,
    pub not_passed: &'static str,
    pub your_answer: &'static str,
    pub right_answer: &'static str,
    pub no_answer: &'static str,
    pub correct: &'static str,
    pub wrong: &'static str,
    pub try_again: &'static str,
    pub back_to_series: &'static str,
    pub back_to_lesson: &'static str,
    pub minutes: &'static str,
    pub footer: &'static str,
    pub help_line: &'static str,
}

pub const ZH: Ui = Ui {
    site_name: "归家课堂",
    tagline: "每周一课，陪孩子一起长大",
    switch_to: "English",
    me: "我的",
    home: "首页",
    this_week: "本周课程",
    all_lessons: "全部课程",
    released_count: "已发布课程：",
    next_lesson: "下一课发布时间：",
    no_more_scheduled: "暂时没有新的课程安排。",
    nothing_yet: "第一课还没有发布，请到时再来。",
    week: "第{}周",
    released_on: "发布于",
    read_lesson: "去学习",
    transcript: "文字稿",
    video_fallback: "您的浏览器无法播放视频，请看下面的文字稿。",
    quiz: "小测验",
    quiz_intro: "学完了？做几道题看看记住了多少。",
    pick_one: "（选一个）",
    pick_all: "（可以选多个）",
    list_separator: "；",
    video_length: "视频 {}",
    check_answers: "提交答案",
    your_score: "您的得分：",
    passed: "通过了，真棒！",
    not_passed: "还差一点，再看看课程，可以重新做。",
    your_answer: "您的答案：",
    right_answer: "正确答案：",
    no_answer: "没有作答",
    correct: "答对了",
    wrong: "答错了",
    try_again: "再做一次",
    back_to_series: "返回课程列表",
    back_to_lesson: "返回本课",
    minutes: "分钟",
    footer: "归家课堂：写给在外打工的爸爸妈妈和青年工友。",
    help_line: "遇到危险请拨打 110；青少年求助热线 12355。",
};

pub const EN: Ui = Ui {
    site_name: "Homeward",
    tagline: "A lesson a week, for growing up together from afar",
    switch_to: "中文",
    me: "Me",
    home: "Home",
    this_week: "This week",
    all_lessons: "All lessons",
    released_count: "Lessons released: ",
    next_lesson: "Next lesson out: ",
    no_more_scheduled: "No new lessons are scheduled yet.",
    nothing_yet: "The first lesson is not out yet. Please come back then.",
    week: "Week {}",
    released_on: "Released",
    read_lesson: "Start",
    transcript: "Transcript",
    video_fallback: "Your browser cannot play this video; the transcript is below.",
    quiz: "Quick quiz",
    quiz_intro: "Finished? Answer a few questions to see what you remember.",
    pick_one: "(Pick one)",
    pick_all: "(Pick all that apply)",
    list_separator: "; ",
    video_length: "Video, {}",
    check_answers: "Check my answers",
    your_score: "Your score: ",
    passed: "You passed. Well done!",
    not_passed: "Not quite. Look at the lesson again and try once more.",
    your_answer: "Your answer: ",
    right_answer: "Right answer: ",
    no_answer: "No answer",
    correct: "Correct",
    wrong: "Wrong",
    try_again: "Try again",
    back_to_series: "Back to the lessons",
    back_to_lesson: "Back to the lesson",
    minutes: "min",
    footer: "Homeward: lessons for parents working far from home, and for young workers.",
    help_line: "In danger, call 110. Youth helpline: 12355.",
};

pub fn ui(lang: Lang) -> &'static Ui {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

impl Ui {
    pub fn week_label(&self, week: u32) -> String {
        self.week.replace("{}", &week.to_string())
    }
}

pub fn audience_label(audience: Audience, lang: Lang) -> &'static str {
    match (audience, lang) {
        (Audience::Parents, Lang::Zh) => "给爸爸妈妈",
        (Audience::Parents, Lang::En) => "For parents",
        (Audience::LineManagers, Lang::Zh) => "给班组长",
        (Audience::LineManagers, Lang::En) => "For line leaders",
        (Audience::YoungWorkers, Lang::Zh) => "给青年工友",
        (Audience::YoungWorkers, Lang::En) => "For young workers",
    }
}

pub fn kind_label(kind: LessonKind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (LessonKind::Comic, Lang::Zh) => "漫画",
        (LessonKind::Comic, Lang::En) => "Comic",
        (LessonKind::Video, Lang::Zh) => "视频",
        (LessonKind::Video, Lang::En) => "Video",
        (LessonKind::Article, Lang::Zh) => "短文",
        (LessonKind::Article, Lang::En) => "Article",
    }
}

/// A moment as learners read it, in the series' timezone.
pub fn format_moment(moment: DateTime<Utc>, timezone: Tz, lang: Lang) -> String {
    let local = moment.with_timezone(&timezone);
    let weekday = local.weekday();
    match lang {
        Lang::Zh => {
            let day =
                ["一", "二", "三", "四", "五", "六", "日"][weekday.num_days_from_monday() as usize];
            format!(
                "{}月{}日（周{}）{}",
                local.month(),
                local.day(),
                day,
                local.format("%H:%M")
            )
        }
        Lang::En => {
            let day = match weekday {
                Weekday::Mon => "Mon",
                Weekday::Tue => "Tue",
                Weekday::Wed => "Wed",
                Weekday::Thu => "Thu",
                Weekday::Fri => "Fri",
                Weekday::Sat => "Sat",
                Weekday::Sun => "Sun",
            };
            format!(
                "{day} {}, {}",
                local.format("%-d %b %Y"),
                local.format("%H:%M")
            )
        }
    }
}
