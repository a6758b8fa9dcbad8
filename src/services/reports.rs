//! What a factory's manager sees: totals for groups only. Every figure about fewer than 5
//! learners is hidden, including figures that subtraction would reveal (DESIGN.md rule 4).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::{ConnectionTrait, Statement, Value};

use crate::domain::Text;
use crate::domain::suppress::{MIN_GROUP, Shown, count, share, suppress_parts};
use crate::services::Context;
use crate::services::staff::Staff;

/// Weeks of joins shown in the chart.
pub const CHART_WEEKS: i64 = 12;

#[derive(Clone, Debug)]
pub struct LineFigures {
    pub line_id: Option<i64>,
    pub name: String,
    pub learners: Shown,
    pub active_7: Shown,
    pub active_30: Shown,
    /// Average best quiz score as a share of the questions, over learners who took quizzes.
    pub average_score: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct LessonFigures {
    pub series: String,
    pub title: Text,
    pub opened: Shown,
    pub completed: Shown,
    pub completion_rate: Option<f64>,
    pub average_score: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    pub factory_id: i64,
    pub factory_name: Text,
    pub lines: Vec<LineFigures>,
    /// The whole factory; `None` for a manager limited to some lines (a total could be
    /// subtracted from their lines' figures to reveal others').
    pub total: Option<LineFigures>,
    /// Monday of each week (Asia/Shanghai) and the joins that week.
    pub joins_per_week: Vec<(chrono::NaiveDate, Shown)>,
    pub lessons: Vec<LessonFigures>,
}

async fn rows(
    state: &Context,
    sql: &str,
    values: Vec<Value>,
) -> anyhow::Result<Vec<sea_orm::QueryResult>> {
    Ok(state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            state.db.get_database_backend(),
            sql,
            values,
        ))
        .await?)
}

fn int(row: &sea_orm::QueryResult, name: &str) -> i64 {
    row.try_get::<i64>("", name)
        .or_else(|_| row.try_get::<i32>("", name).map(i64::from))
        .unwrap_or(0)
}

fn float(row: &sea_orm::QueryResult, name: &str) -> Option<f64> {
    row.try_get::<Option<f64>>("", name).ok().flatten()
}

/// Group counts by line, then suppress them together with their total.
fn by_line(
    lines: &[(Option<i64>, String)],
    counts: &BTreeMap<Option<i64>, u64>,
    show_total: bool,
) -> (Vec<Shown>, Shown) {
    let parts: Vec<u64> = lines
        .iter()
        .map(|(id, _)| counts.get(id).copied().unwrap_or(0))
        .collect();
    let total: u64 = parts.iter().sum();
    if show_total {
        suppress_parts(&parts, total)
    } else {
        // Without a total on screen, each line stands alone.
        (parts.iter().map(|&n| count(n)).collect(), Shown::Hidden)
    }
}

/// The dashboard of `factory_id` as `who` may see it.
pub async fn dashboard(
    state: &Context,
    who: &Staff,
    factory_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Dashboard>> {
    let Some(factory) = rows(
        state,
        "SELECT name_zh, name_en FROM factory WHERE id = $1",
        vec![factory_id.into()],
    )
    .await?
    .into_iter()
    .next() else {
        return Ok(None);
    };
    let factory_name = Text::new(
        factory.try_get::<String>("", "name_zh")?,
        factory.try_get::<String>("", "name_en")?,
    );
    let limited = who.line_ids.clone().filter(|ids| !ids.is_empty());
    let mut lines: Vec<(Option<i64>, String)> = rows(
        state,
        "SELECT id, name FROM line WHERE factory_id = $1 ORDER BY id",
        vec![factory_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        (
            Some(int(r, "id")),
            r.try_get::<String>("", "name").unwrap_or_default(),
        )
    })
    .filter(|(id, _)| {
        limited
            .as_ref()
            .is_none_or(|ids| id.is_some_and(|id| ids.contains(&id)))
    })
    .collect();
    if limited.is_none() {
        lines.push((None, "—".into()));
    }
    let in_scope = |line: Option<i64>| lines.iter().any(|(id, _)| *id == line);

    let count_by_line = |result: Vec<sea_orm::QueryResult>| -> BTreeMap<Option<i64>, u64> {
        result
            .iter()
            .map(|r| {
                (
                    r.try_get::<Option<i64>>("", "line_id").ok().flatten(),
                    int(r, "n").max(0) as u64,
                )
            })
            .filter(|(line, _)| in_scope(*line))
            .collect()
    };
    let learners = count_by_line(
        rows(
            state,
            "SELECT line_id, COUNT(*) AS n FROM learner WHERE factory_id = $1 GROUP BY line_id",
            vec![factory_id.into()],
        )
        .await?,
    );
    let active = |days: i64| {
        rows(
            state,
            "SELECT l.line_id AS line_id, COUNT(DISTINCT p.learner_id) AS n FROM lesson_progress p JOIN learner l ON l.id = p.learner_id \
             WHERE l.factory_id = $1 AND p.updated_at >= $2 GROUP BY l.line_id",
            vec![factory_id.into(), (now - Duration::days(days)).into()],
        )
    };
    let active_7 = count_by_line(active(7).await?);
    let active_30 = count_by_line(active(30).await?);
    let scores = rows(
        state,
        "SELECT l.line_id AS line_id, AVG(CAST(a.score AS DOUBLE PRECISION) / a.total) AS avg, COUNT(DISTINCT a.learner_id) AS n \
         FROM quiz_attempt a JOIN learner l ON l.id = a.learner_id WHERE l.factory_id = $1 AND a.total > 0 GROUP BY l.line_id",
        vec![factory_id.into()],
    )
    .await?;
    let score_of = |line: Option<i64>| {
        scores
            .iter()
            .find(|r| r.try_get::<Option<i64>>("", "line_id").ok().flatten() == line)
            .filter(|r| int(r, "n") as u64 >= MIN_GROUP)
            .and_then(|r| float(r, "avg"))
    };
    let show_total = limited.is_none();
    let (learner_parts, learner_total) = by_line(&lines, &learners, show_total);
    let (active7_parts, active7_total) = by_line(&lines, &active_7, show_total);
    let (active30_parts, active30_total) = by_line(&lines, &active_30, show_total);
    let line_figures: Vec<LineFigures> = lines
        .iter()
        .enumerate()
        .map(|(i, (id, name))| LineFigures {
            line_id: *id,
            name: name.clone(),
            learners: learner_parts[i],
            active_7: active7_parts[i],
            active_30: active30_parts[i],
            average_score: score_of(*id),
        })
        .collect();
    let total = show_total.then(|| {
        let all_scores: Vec<(f64, u64)> = scores
            .iter()
            .filter_map(|r| Some((float(r, "avg")?, int(r, "n") as u64)))
            .collect();
        let takers: u64 = all_scores.iter().map(|(_, n)| n).sum();
        LineFigures {
            line_id: None,
            name: String::new(),
            learners: learner_total,
            active_7: active7_total,
            active_30: active30_total,
            average_score: (takers >= MIN_GROUP).then(|| {
                all_scores.iter().map(|(a, n)| a * *n as f64).sum::<f64>() / takers as f64
            }),
        }
    });

    // Joins per week, over the lines in scope.
    let tz = chrono_tz::Asia::Shanghai;
    let today = now.with_timezone(&tz).date_naive();
    let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let first_monday = this_monday - Duration::weeks(CHART_WEEKS - 1);
    let mut weekly: BTreeMap<chrono::NaiveDate, u64> = (0..CHART_WEEKS)
        .map(|w| (first_monday + Duration::weeks(w), 0))
        .collect();
    let mut before_window = 0u64;
    for row in rows(
        state,
        "SELECT line_id, created_at FROM learner WHERE factory_id = $1",
        vec![factory_id.into()],
    )
    .await?
    {
        let line = row.try_get::<Option<i64>>("", "line_id").ok().flatten();
        if !in_scope(line) {
            continue;
        }
        let Ok(created) = row.try_get::<DateTime<Utc>>("", "created_at") else {
            continue;
        };
        let day = created.with_timezone(&tz).date_naive();
        let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        match weekly.get_mut(&monday) {
            Some(n) => *n += 1,
            None => before_window += 1,
        }
    }
    // The weeks and the joins before them add up to the learners shown: suppress them together.
    let mut parts: Vec<u64> = weekly.values().copied().collect();
    parts.push(before_window);
    let total_joins: u64 = parts.iter().sum();
    let (shown_weeks, _) = suppress_parts(&parts, total_joins);
    let joins_per_week = weekly.keys().copied().zip(shown_weeks).collect();

    // Completion per lesson, over the lines in scope.
    let scope_sql = match &limited {
        Some(ids) => format!(
            " AND l.line_id IN ({})",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
        None => String::new(),
    };
    let per_lesson = rows(
        state,
        &format!(
            "SELECT p.lesson_id AS lesson_id, COUNT(p.first_opened_at) AS opened, COUNT(p.completed_at) AS completed, \
                    COUNT(p.quiz_best_score) AS takers \
             FROM lesson_progress p JOIN learner l ON l.id = p.learner_id WHERE l.factory_id = $1{scope_sql} GROUP BY p.lesson_id"
        ),
        vec![factory_id.into()],
    )
    .await?;
    let lesson_scores = rows(
        state,
        &format!(
            "SELECT a.lesson_id AS lesson_id, AVG(CAST(a.score AS DOUBLE PRECISION) / a.total) AS avg, COUNT(DISTINCT a.learner_id) AS n \
             FROM quiz_attempt a JOIN learner l ON l.id = a.learner_id WHERE l.factory_id = $1 AND a.total > 0{scope_sql} GROUP BY a.lesson_id"
        ),
        vec![factory_id.into()],
    )
    .await?;
    let catalog = crate::services::lessons::catalog(state).await?;
    let mut lessons = Vec::new();
    for series in &catalog.series {
        for lesson in series.released(now) {
            let row = per_lesson.iter().find(|r| int(r, "lesson_id") == lesson.id);
            let opened = row.map(|r| int(r, "opened") as u64).unwrap_or(0);
            let completed = row.map(|r| int(r, "completed") as u64).unwrap_or(0);
            let score = lesson_scores
                .iter()
                .find(|r| int(r, "lesson_id") == lesson.id)
                .filter(|r| int(r, "n") as u64 >= MIN_GROUP)
                .and_then(|r| float(r, "avg"));
            lessons.push(LessonFigures {
                series: series.slug.clone(),
                title: lesson.title.clone(),
                opened: count(opened),
                completed: count(completed),
                completion_rate: share(completed, opened),
                average_score: score,
            });
        }
    }
    Ok(Some(Dashboard {
        factory_id,
        factory_name,
        lines: line_figures,
        total,
        joins_per_week,
        lessons,
    }))
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return
/// first) gets a leading `'`, which spreadsheets show as text.
fn plain_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// The same figures as CSV; hidden figures read "<5". Every name is quoted and written as plain
/// text, never as something a spreadsheet would run.
pub fn csv(dashboard: &Dashboard) -> String {
    let cell = |s: Shown| {
        s.value()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "<5".into())
    };
    let pct = |v: Option<f64>| {
        v.map(|v| format!("{:.1}", v * 100.0))
            .unwrap_or_else(|| "<5".into())
    };
    let quote = |s: &str| format!("\"{}\"", plain_cell(s).replace('"', "\"\""));
    let mut out = String::from(
        "section,name,learners,active_7_days,active_30_days,average_quiz_score_percent\n",
    );
    for line in dashboard.lines.iter().chain(dashboard.total.iter()) {
        let name = if line.name.is_empty() {
            "whole factory"
        } else {
            &line.name
        };
        out += &format!(
            "line,{},{},{},{},{}\n",
            quote(name),
            cell(line.learners),
            cell(line.active_7),
            cell(line.active_30),
            pct(line.average_score)
        );
    }
    out += "section,week_starting,joins\n";
    for (week, joins) in &dashboard.joins_per_week {
        out += &format!("joins,{week},{}\n", cell(*joins));
    }
    out += "section,series,lesson,opened,completed,completion_rate_percent,average_quiz_score_percent\n";
    for lesson in &dashboard.lessons {
        out += &format!(
            "lesson,{},{},{},{},{},{}\n",
            lesson.series,
            quote(&lesson.title.zh),
            cell(lesson.opened),
            cell(lesson.completed),
            pct(lesson.completion_rate),
            pct(lesson.average_score)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn formula_cells_become_text() {
        for formula in ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(super::plain_cell(formula).starts_with('\''), "{formula:?}");
        }
        assert_eq!(super::plain_cell("A3线"), "A3线");
        assert_eq!(super::plain_cell("<5"), "<5");
    }
}
