//! Interface strings of the lesson messages (at joining and in /me) and of the background jobs
//! page, in Chinese and English.

use crate::domain::Lang;

pub struct JobsUi {
    pub title: &'static str,
    pub summary: &'static str,
    pub queued: &'static str,
    pub running: &'static str,
    pub failed: &'static str,
    pub dead: &'static str,
    pub oldest_wait: &'static str,
    pub seconds: &'static str,
    pub attempts: &'static str,
    pub run_at: &'static str,
    pub last_error: &'static str,
    pub retry: &'static str,
    pub none: &'static str,
    pub retried: &'static str,
    pub not_retryable: &'static str,
    pub back_to_admin: &'static str,
}

static ZH: JobsUi = JobsUi {
    title: "后台任务",
    summary: "概况",
    queued: "排队中",
    running: "运行中",
    failed: "失败待重试",
    dead: "已放弃",
    oldest_wait: "最久等待",
    seconds: "秒",
    attempts: "尝试次数",
    run_at: "计划时间",
    last_error: "最近错误",
    retry: "重试",
    none: "没有任务。",
    retried: "任务已重新排队。",
    not_retryable: "这个任务不是失败或已放弃的状态，无法重试。",
    back_to_admin: "返回系统管理",
};

static EN: JobsUi = JobsUi {
    title: "Background jobs",
    summary: "Summary",
    queued: "Queued",
    running: "Running",
    failed: "Failed, will retry",
    dead: "Dead",
    oldest_wait: "Oldest wait",
    seconds: "s",
    attempts: "Attempts",
    run_at: "Run at",
    last_error: "Last error",
    retry: "Retry",
    none: "No jobs.",
    retried: "The job is queued again.",
    not_retryable: "That job is not failed or dead, so it cannot be retried.",
    back_to_admin: "Back to admin",
};

pub fn jobs_ui(lang: Lang) -> &'static JobsUi {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// The lesson messages' settings, at joining and in /me.
pub struct MessagesUi {
    pub heading: &'static str,
    pub intro: &'static str,
    pub shift: &'static str,
    pub day: &'static str,
    pub night: &'static str,
    pub rotating: &'static str,
    pub preferred: &'static str,
    pub preferred_hint: &'static str,
    pub stop: &'static str,
    pub stop_hint: &'static str,
    pub on: &'static str,
    pub stopped: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub bad_time: &'static str,
}

static MESSAGES_ZH: MessagesUi = MessagesUi {
    heading: "课程消息",
    intro: "每周新课发布后，我们在您方便的时间发一条微信消息，每周最多两条。",
    shift: "您的班次",
    day: "白班（08:00–22:00 收消息）",
    night: "夜班（16:00–20:00 收消息）",
    rotating: "倒班（18:00–21:00 收消息）",
    preferred: "想在几点收到（可不填）",
    preferred_hint: "不填就在新课发布后、您可以收消息的第一时间发送。",
    stop: "不再接收课程消息（退订）",
    stop_hint: "也可以在公众号里回复“退订”。",
    on: "正在接收",
    stopped: "已停止",
    save: "保存消息设置",
    saved: "消息设置已保存。",
    bad_time: "提醒时间要在所选班次可以收消息的时间内。",
};

static MESSAGES_EN: MessagesUi = MessagesUi {
    heading: "Lesson messages",
    intro: "When a new lesson comes out, we send one WeChat message at a time that suits you, never more than two a week.",
    shift: "Your shift",
    day: "Day shift (messages 08:00-22:00)",
    night: "Night shift (messages 16:00-20:00)",
    rotating: "Rotating shifts (messages 18:00-21:00)",
    preferred: "Preferred time (optional)",
    preferred_hint: "Left empty, the message comes at the first time you can get messages after the lesson is out.",
    stop: "Stop lesson messages",
    stop_hint: "You can also reply \"stop\" in the chat.",
    on: "On",
    stopped: "Stopped",
    save: "Save message settings",
    saved: "Message settings saved.",
    bad_time: "Pick a time inside your shift's message hours.",
};

pub fn messages_ui(lang: Lang) -> &'static MessagesUi {
    match lang {
        Lang::Zh => &MESSAGES_ZH,
        Lang::En => &MESSAGES_EN,
    }
}

/// A learner's message settings as the forms show them.
pub struct PushView {
    pub shift: &'static str,
    /// `HH:MM` or empty.
    pub preferred: String,
    pub stopped: bool,
}

impl PushView {
    pub fn of(prefs: &crate::services::push::prefs::PushPrefs) -> PushView {
        PushView {
            shift: prefs.shift.as_str(),
            preferred: prefs.preferred_text(),
            stopped: prefs.muted,
        }
    }
}

/// Editors' figures of a release's messages.
pub struct PushFiguresUi {
    pub heading: &'static str,
    pub hint: &'static str,
    pub queued: &'static str,
    pub sent: &'static str,
    pub failed: &'static str,
    pub opened_7: &'static str,
}

static FIGURES_ZH: PushFiguresUi = PushFiguresUi {
    heading: "发布消息",
    hint: "这节课发布时给学员发的微信消息。",
    queued: "排队中",
    sent: "已发送",
    failed: "发送失败",
    opened_7: "收到后 7 天内打开",
};

static FIGURES_EN: PushFiguresUi = PushFiguresUi {
    heading: "Release messages",
    hint: "The WeChat messages sent to learners when this lesson came out.",
    queued: "Queued",
    sent: "Sent",
    failed: "Failed",
    opened_7: "Opened within 7 days of the message",
};

pub fn push_figures_ui(lang: Lang) -> &'static PushFiguresUi {
    match lang {
        Lang::Zh => &FIGURES_ZH,
        Lang::En => &FIGURES_EN,
    }
}
