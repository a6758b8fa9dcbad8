use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wechat_follower")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub openid: String,
    pub learner_id: Option<i64>,
    pub lang: String,
    pub following: bool,
    pub code_id: Option<i64>,
    pub followed_at: Option<DateTimeUtc>,
    pub unfollowed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
