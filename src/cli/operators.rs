//! Operators' commands: factories, lines, enrollment codes, staff, and learners' deletions.

use chrono::{Duration, NaiveTime};

use super::{CodeAction, FactoryAction, LearnerAction, LineAction, StaffAction};
use crate::clock::{Clock, SystemClock};
use crate::domain::schedule::local_to_utc;
use crate::services::enrollment::{self, NewCode};
use crate::settings::Settings;
use crate::store;

async fn database(settings: &Settings) -> anyhow::Result<sea_orm::DatabaseConnection> {
    settings.validate()?;
    let db = store::connect(settings.database_url()).await?;
    if store::is_sqlite(&db) {
        store::migrate_up(&db).await?;
    } else if !store::pending_migrations(&db).await?.is_empty() {
        anyhow::bail!("the database has pending migrations; run `homeward migrate up` first");
    }
    Ok(db)
}

pub async fn factory(settings: Settings, action: FactoryAction) -> anyhow::Result<()> {
    let db = database(&settings).await?;
    match action {
        FactoryAction::Add {
            name,
            name_en,
            city,
        } => {
            anyhow::ensure!(!name.trim().is_empty(), "the factory needs a name");
            let en = name_en.unwrap_or_else(|| name.clone());
            let id = enrollment::add_factory(&db, &name, &en, city.as_deref(), SystemClock.now())
                .await?;
            println!("factory added: {name}");
            println!("{id}");
        }
    }
    Ok(())
}

pub async fn line(settings: Settings, action: LineAction) -> anyhow::Result<()> {
    let db = database(&settings).await?;
    match action {
        LineAction::Add { factory, name } => {
            anyhow::ensure!(!name.trim().is_empty(), "the line needs a name");
            let id = enrollment::add_line(&db, factory, &name, SystemClock.now()).await?;
            println!("line added to factory {factory}: {name}");
            println!("{id}");
        }
    }
    Ok(())
}

pub async fn code(settings: Settings, action: CodeAction) -> anyhow::Result<i32> {
    let db = database(&settings).await?;
    let now = SystemClock.now();
    match action {
        CodeAction::Create {
            factory,
            line,
            label,
            expires,
            max_joins,
        } => {
            // A code works through the whole of its last day, Beijing time.
            let expires_at = expires.map(|day| {
                local_to_utc(
                    chrono_tz::Asia::Shanghai,
                    (day + Duration::days(1)).and_time(NaiveTime::MIN),
                )
            });
            anyhow::ensure!(
                expires_at.is_none_or(|at| at > now),
                "--expires is in the past"
            );
            let (id, token) = enrollment::create_code(
                &db,
                NewCode {
                    factory_id: factory,
                    line_id: line,
                    label,
                    expires_at,
                    max_joins,
                },
                now,
            )
            .await?;
            println!("code {id} created");
            super::wechat::after_code_created(&settings, id, &token).await?;
            println!("{}/join/{token}", settings.public_url());
            Ok(0)
        }
        CodeAction::List => {
            println!("id\ttoken\tfactory\tline\tlabel\tjoins\tmax\texpires\tstate");
            for code in enrollment::list_codes(&db).await? {
                let state = if code.revoked_at.is_some() {
                    "revoked"
                } else if code.expires_at.is_some_and(|at| at <= now) {
                    "expired"
                } else if code.max_joins.is_some_and(|m| code.joins >= m) {
                    "full"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    code.id,
                    code.token,
                    code.factory_id,
                    code.line_id
                        .map(|l| l.to_string())
                        .unwrap_or_else(|| "-".into()),
                    code.label,
                    code.joins,
                    code.max_joins
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| "-".into()),
                    code.expires_at
                        .map(|e| e.to_rfc3339())
                        .unwrap_or_else(|| "-".into()),
                    state
                );
            }
            Ok(0)
        }
        CodeAction::Revoke { token } => {
            if enrollment::revoke_code(&db, token.trim(), now).await? {
                println!("code revoked");
                Ok(0)
            } else {
                eprintln!("there is no code with that token");
                Ok(1)
            }
        }
    }
}

pub async fn staff(settings: Settings, action: StaffAction) -> anyhow::Result<()> {
    let db = database(&settings).await?;
    match action {
        StaffAction::Add {
            role,
            email,
            factory,
            lines,
        } => {
            let role = crate::services::staff::Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("--role must be admin, editor or manager"))?;
            let now = SystemClock.now();
            let (id, token) =
                crate::services::staff::add(&db, &email, role, factory, lines, now).await?;
            crate::services::staff::audit(&db, None, "cli", "add_staff", &format!("staff:{id}"), None, Some(serde_json::json!({"email": email.trim().to_lowercase(), "role": role.as_str(), "factory_id": factory})), now).await?;
            println!(
                "staff {id} added; send them this one-time link (valid 7 days) to set a password:"
            );
            println!("{}/staff/setup/{token}", settings.public_url());
        }
    }
    Ok(())
}

/// Deletes learners as their data requests ask (audited as `cli`); an id that is not there is
/// said, not an error, so that deletions can be re-applied after restoring a backup.
pub async fn learner(settings: Settings, action: LearnerAction) -> anyhow::Result<()> {
    let db = database(&settings).await?;
    match action {
        LearnerAction::Delete { ids } => {
            for id in ids {
                if crate::services::accounts::delete(&db, id).await? {
                    let target = format!("learner:{id}");
                    crate::services::staff::audit(
                        &db,
                        None,
                        "cli",
                        "delete_learner",
                        &target,
                        None,
                        None,
                        SystemClock.now(),
                    )
                    .await?;
                    println!("deleted learner {id} and everything about them");
                } else {
                    println!("no learner {id}: nothing to delete");
                }
            }
        }
    }
    Ok(())
}
