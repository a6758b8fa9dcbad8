use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "learner")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub nickname: Option<String>,
    pub audience: String,
    pub lang: String,
    pub child_age_bands: Option<String>,
    pub recovery_hash: String,
    pub device_hash: Option<String>,
    pub code_id: Option<i64>,
    pub factory_id: Option<i64>,
    pub line_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
