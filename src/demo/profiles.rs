//! The demo applicants, one [`Profile`] of knobs each.
//!
//! To move an account's score, change one knob and regenerate the fixtures
//! (`cargo test --lib demo::tests::regenerate_fixtures -- --ignored`):
//!
//! - assets: `start` of a holding shifts its whole balance history by that
//!   amount (plus a little interest); `savings_rate_pct` changes how fast
//!   savings grow;
//! - bills: `late_bills` and `missed_bills` are exact counts, placed among the
//!   bills due in the 12 months before the as-of date; raising a count by one
//!   keeps the earlier choices and adds one more late (missed) bill;
//! - history: `history_months`, `opened_on`, `phone_since`, `address_since`;
//! - spending: `monthly_spending`, `spending_volatility_pct`, `tx_per_day_tenths`.
//!
//! Each account has its own random streams (spending, bills, holdings), so a
//! knob changes only what it is about and no other account moves.
//!
//! The resulting scores as of [`super::DEMO_AS_OF`] are pinned in
//! `tests/it/scoring.rs` and listed in `docs/scoring.md` ("The demo
//! accounts"): A1003 scores exactly 750 (refused), A1004 751 (eligible).

use chrono::NaiveDate;

use super::catalog::{self, City};
use crate::domain::{Currency, HoldingKind};

/// The band an account is meant to land in once scored (350–950, eligible
/// iff > 750). The scorecard decides; this records the intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// Comfortably eligible.
    Strong,
    /// Within a few tens of points of the gate either way: the accounts to tune.
    NearGate,
    /// Clearly ineligible.
    Weak,
}

/// One holding: the first of a profile must be the CNY current account,
/// which all transactions post to.
#[derive(Debug, Clone, Copy)]
pub struct HoldingSpec {
    pub kind: HoldingKind,
    pub currency: Currency,
    /// Balance at the start of the history, in major units (yuan, dollars).
    pub start: i64,
    /// Annual interest in basis points (for `investment`: the annual drift).
    pub rate_bp: i64,
    /// Daily volatility in basis points (`investment` only).
    pub daily_vol_bp: i64,
}

const fn holding(kind: HoldingKind, start: i64, rate_bp: i64) -> HoldingSpec {
    HoldingSpec { kind, currency: Currency::CNY, start, rate_bp, daily_vol_bp: 0 }
}

const fn current(start: i64) -> HoldingSpec {
    holding(HoldingKind::Current, start, 10)
}

const fn savings(start: i64) -> HoldingSpec {
    holding(HoldingKind::Savings, start, 125)
}

const fn money_market(start: i64) -> HoldingSpec {
    holding(HoldingKind::MoneyMarketFund, start, 160)
}

const fn time_deposit(start: i64) -> HoldingSpec {
    holding(HoldingKind::TimeDeposit, start, 175)
}

const fn investment(start: i64, daily_vol_bp: i64) -> HoldingSpec {
    HoldingSpec { kind: HoldingKind::Investment, currency: Currency::CNY, start, rate_bp: 400, daily_vol_bp }
}

/// A monthly bill. Amounts are typical yuan; electricity and gas follow the
/// seasons, water varies a little, phone plans and property fees are fixed.
#[derive(Debug, Clone, Copy)]
pub enum Biller {
    Electricity(i64),
    Gas(i64),
    Water(i64),
    Mobile { carrier: &'static str, plan: i64 },
    Property { company: &'static str, monthly: i64 },
}

/// Money coming in every month on `day` (clamped to the month's length).
#[derive(Debug, Clone, Copy)]
pub struct Income {
    /// Yuan per month.
    pub monthly: i64,
    pub day: u32,
    /// `salary`, or `transfer_in` for money from family.
    pub category: &'static str,
    /// The employer or the sender, as the statement shows it.
    pub payer: &'static str,
}

/// A one-off transaction on the current account: positive is money in.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub on: NaiveDate,
    /// Yuan; negative for money out.
    pub amount: i64,
    pub category: &'static str,
    pub merchant: &'static str,
}

/// Everything that shapes one demo account.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    pub id: &'static str,
    pub band: Band,
    /// The profile in a few words, for people reading the fixtures.
    pub summary: &'static str,

    pub full_name: &'static str,
    pub date_of_birth: NaiveDate,
    pub nationality: &'static str,
    pub passport_number: &'static str,
    pub passport_country: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub opened_on: NaiveDate,
    pub phone_since: NaiveDate,
    pub address_since: NaiveDate,
    pub city: City,

    /// Months of data before the as-of date (never before `opened_on`).
    pub history_months: u32,
    pub income: Income,
    /// Share of income moved from current to savings the day after payday
    /// (the first CNY `savings` holding), as long as `keep_in_current` stays.
    pub savings_rate_pct: i64,
    /// Yuan left in the current account by the monthly savings transfer.
    pub keep_in_current: i64,
    /// Yuan above which the monthly transfer also moves the excess to savings.
    pub current_cap: i64,
    /// Discretionary purchases that would take the current account below
    /// this many yuan are declined (left out), so it never goes negative.
    pub floor: i64,
    /// Monthly rent in yuan (0 for owners), paid the day after payday.
    pub rent: i64,
    pub landlord: &'static str,
    /// Monthly insurance premium in yuan (0 for none), two days after payday.
    pub insurance: i64,
    pub insurer: &'static str,
    /// Expected discretionary spending in yuan per month.
    pub monthly_spending: i64,
    /// How much monthly spending swings, in percent (one standard deviation).
    pub spending_volatility_pct: i64,
    /// Discretionary purchases per day, in tenths (30 = 3.0 a day).
    pub tx_per_day_tenths: u64,
    pub holdings: &'static [HoldingSpec],
    pub billers: &'static [Biller],
    /// Exact number of bills paid after their due date (last 12 months).
    pub late_bills: u32,
    /// Exact number of bills never paid (last 12 months).
    pub missed_bills: u32,
    pub events: &'static [Event],
}

/// A date known at compile time; an impossible date fails the build.
pub const fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) => date,
        None => panic!("invalid date in a demo profile"),
    }
}

const fn salary(monthly: i64, day: u32, payer: &'static str) -> Income {
    Income { monthly, day, category: "salary", payer }
}

/// What most profiles share; each profile overrides what makes it itself.
const BASE: Profile = Profile {
    id: "",
    band: Band::NearGate,
    summary: "",
    full_name: "",
    date_of_birth: ymd(1990, 1, 1),
    nationality: "CHN",
    passport_number: "",
    passport_country: "CHN",
    phone: "",
    email: "",
    opened_on: ymd(2016, 1, 1),
    phone_since: ymd(2015, 1, 1),
    address_since: ymd(2019, 1, 1),
    city: catalog::SHANGHAI,
    history_months: 13,
    income: salary(15_000, 10, "上海某科技有限公司 Shanghai Technology Co., Ltd."),
    savings_rate_pct: 15,
    keep_in_current: 6_000,
    current_cap: 30_000,
    floor: 1_500,
    rent: 0,
    landlord: catalog::ZIROOM,
    insurance: 0,
    insurer: catalog::PING_AN,
    monthly_spending: 7_000,
    spending_volatility_pct: 20,
    tx_per_day_tenths: 25,
    holdings: &[current(8_000), savings(60_000)],
    billers: &[
        Biller::Electricity(180),
        Biller::Gas(70),
        Biller::Water(45),
        Biller::Mobile { carrier: catalog::CHINA_MOBILE, plan: 128 },
        Biller::Property { company: catalog::VANKE, monthly: 320 },
    ],
    late_bills: 0,
    missed_bills: 0,
    events: &[],
};

/// The demo applicants, in account-id order.
pub const PROFILES: &[Profile] = &[
    Profile {
        id: "A1001",
        band: Band::Strong,
        summary: "senior engineer, Shanghai homeowner; 2 years of on-time bills, large steady savings",
        full_name: "ZHANG Wei",
        date_of_birth: ymd(1990, 4, 12),
        passport_number: "E12345678",
        phone: "+8613800138000",
        email: "zhang.wei@example.com",
        opened_on: ymd(2014, 3, 1),
        phone_since: ymd(2012, 6, 1),
        address_since: ymd(2016, 1, 1),
        history_months: 24,
        income: salary(32_000, 10, "上海浦江数据科技有限公司 Shanghai Pujiang Data Technology Co., Ltd."),
        savings_rate_pct: 35,
        current_cap: 40_000,
        keep_in_current: 15_000,
        floor: 3_000,
        insurance: 680,
        monthly_spending: 17_000,
        spending_volatility_pct: 15,
        holdings: &[current(18_000), savings(300_000), money_market(120_000)],
        billers: &[
            Biller::Electricity(220),
            Biller::Gas(85),
            Biller::Water(55),
            Biller::Mobile { carrier: catalog::CHINA_MOBILE, plan: 158 },
            Biller::Property { company: catalog::VANKE, monthly: 420 },
        ],
        events: &[
            Event {
                on: ymd(2025, 1, 20),
                amount: 64_000,
                category: "salary",
                merchant: "上海浦江数据科技有限公司 year-end bonus",
            },
            Event {
                on: ymd(2026, 1, 20),
                amount: 70_000,
                category: "salary",
                merchant: "上海浦江数据科技有限公司 year-end bonus",
            },
            Event { on: ymd(2026, 7, 14), amount: -16_800, category: "travel", merchant: "携程旅行 Trip.com" },
        ],
        ..BASE
    },
    Profile {
        id: "A1002",
        band: Band::Strong,
        summary: "finance director, Beijing homeowner; savings, time deposit and investments over CNY 1M",
        full_name: "LI Na",
        date_of_birth: ymd(1985, 9, 23),
        passport_number: "EA2468013",
        phone: "+8613912345678",
        email: "li.na@example.com",
        opened_on: ymd(2011, 7, 15),
        phone_since: ymd(2009, 3, 1),
        address_since: ymd(2015, 8, 1),
        city: catalog::BEIJING,
        history_months: 24,
        income: salary(46_000, 15, "北京华信投资管理有限公司 Beijing Huaxin Investment Management Co., Ltd."),
        savings_rate_pct: 30,
        current_cap: 60_000,
        keep_in_current: 25_000,
        floor: 5_000,
        insurance: 1_200,
        insurer: catalog::CHINA_LIFE,
        monthly_spending: 27_000,
        spending_volatility_pct: 20,
        tx_per_day_tenths: 26,
        holdings: &[current(25_000), savings(420_000), time_deposit(300_000), investment(180_000, 90)],
        billers: &[
            Biller::Electricity(260),
            Biller::Gas(110),
            Biller::Water(60),
            Biller::Mobile { carrier: catalog::CHINA_UNICOM, plan: 199 },
            Biller::Property { company: catalog::GREENTOWN, monthly: 680 },
        ],
        events: &[Event {
            on: ymd(2026, 7, 8),
            amount: -18_600,
            category: "travel",
            merchant: "中国东方航空 China Eastern Airlines",
        }],
        ..BASE
    },
    Profile {
        id: "A1003",
        band: Band::NearGate,
        summary: "marketing manager renting in Shanghai, switched banks in 2024; CNY ~90k savings, 3 late bills, 18 months of data",
        full_name: "WANG Fang",
        date_of_birth: ymd(1993, 2, 7),
        passport_number: "E38291047",
        phone: "+8615821736490",
        email: "wang.fang@example.com",
        opened_on: ymd(2024, 2, 19),
        phone_since: ymd(2017, 9, 1),
        address_since: ymd(2021, 3, 1),
        history_months: 18,
        income: salary(16_500, 10, "上海悦享文化传媒有限公司 Shanghai Yuexiang Media Co., Ltd."),
        savings_rate_pct: 18,
        rent: 4_200,
        monthly_spending: 8_400,
        spending_volatility_pct: 30,
        holdings: &[current(9_000), savings(36_000)],
        billers: &[
            Biller::Electricity(150),
            Biller::Gas(55),
            Biller::Water(40),
            Biller::Mobile { carrier: catalog::CHINA_MOBILE, plan: 98 },
        ],
        late_bills: 3,
        ..BASE
    },
    Profile {
        id: "A1004",
        band: Band::NearGate,
        summary: "civil servant, bought a Beijing flat and took a new number in 2024; CNY ~145k savings and MMF, 5 late and 1 missed bill, 16 months",
        full_name: "LIU Yang",
        date_of_birth: ymd(1988, 11, 30),
        passport_number: "E50417826",
        phone: "+8613661829305",
        email: "liu.yang@example.com",
        opened_on: ymd(2016, 10, 20),
        phone_since: ymd(2024, 4, 1),
        address_since: ymd(2024, 6, 1),
        city: catalog::BEIJING,
        history_months: 16,
        income: salary(19_000, 5, "北京市海淀区人民政府 Haidian District Government, Beijing"),
        savings_rate_pct: 15,
        monthly_spending: 14_600,
        holdings: &[current(12_000), savings(25_000), money_market(20_000)],
        billers: &[
            Biller::Electricity(200),
            Biller::Gas(90),
            Biller::Water(50),
            Biller::Mobile { carrier: catalog::CHINA_UNICOM, plan: 129 },
            Biller::Property { company: catalog::COUNTRY_GARDEN, monthly: 350 },
        ],
        late_bills: 5,
        missed_bills: 1,
        ..BASE
    },
    Profile {
        id: "A1005",
        band: Band::NearGate,
        summary: "UX designer renting in Shenzhen, moved a year ago; CNY ~95k savings, 2 late and 2 missed bills",
        full_name: "CHEN Jing",
        date_of_birth: ymd(1995, 6, 18),
        passport_number: "EB7302915",
        phone: "+8618621907734",
        email: "chen.jing@example.com",
        opened_on: ymd(2018, 3, 2),
        phone_since: ymd(2015, 7, 1),
        address_since: ymd(2025, 9, 1),
        city: catalog::SHENZHEN,
        history_months: 14,
        income: salary(14_000, 10, "深圳前海云图科技有限公司 Shenzhen Qianhai Yuntu Technology Co., Ltd."),
        savings_rate_pct: 18,
        keep_in_current: 5_000,
        rent: 3_600,
        landlord: catalog::LIANJIA,
        monthly_spending: 7_100,
        spending_volatility_pct: 25,
        holdings: &[current(6_000), savings(62_000)],
        billers: &[
            Biller::Electricity(170),
            Biller::Water(40),
            Biller::Mobile { carrier: catalog::CHINA_TELECOM, plan: 79 },
        ],
        late_bills: 2,
        missed_bills: 2,
        ..BASE
    },
    Profile {
        id: "A1006",
        band: Band::NearGate,
        summary: "sales lead renting in Shanghai; CNY ~95k savings plus volatile shares, 5 late and 1 missed bill, uneven spending",
        full_name: "ZHAO Lei",
        date_of_birth: ymd(1991, 1, 25),
        passport_number: "E62984130",
        phone: "+8613817265043",
        email: "zhao.lei@example.com",
        opened_on: ymd(2017, 8, 14),
        phone_since: ymd(2014, 4, 1),
        address_since: ymd(2022, 11, 1),
        history_months: 20,
        income: salary(21_000, 10, "上海申通贸易有限公司 Shanghai Shentong Trading Co., Ltd."),
        savings_rate_pct: 12,
        keep_in_current: 8_000,
        rent: 5_500,
        insurance: 420,
        monthly_spending: 11_200,
        spending_volatility_pct: 45,
        tx_per_day_tenths: 30,
        holdings: &[current(10_000), savings(35_000), investment(30_000, 160)],
        late_bills: 5,
        missed_bills: 1,
        ..BASE
    },
    Profile {
        id: "A1007",
        band: Band::NearGate,
        summary: "hospital pharmacist, Beijing homeowner; CNY ~95k savings, 2 late and 1 missed bill, 15 months",
        full_name: "HUANG Min",
        date_of_birth: ymd(1987, 8, 9),
        passport_number: "E71530492",
        phone: "+8615000372816",
        email: "huang.min@example.com",
        opened_on: ymd(2021, 4, 12),
        phone_since: ymd(2016, 2, 1),
        address_since: ymd(2020, 6, 1),
        city: catalog::BEIJING,
        history_months: 15,
        income: salary(17_500, 15, "北京协和医院 Peking Union Medical College Hospital"),
        savings_rate_pct: 20,
        monthly_spending: 12_700,
        holdings: &[current(8_000), savings(15_000)],
        billers: &[
            Biller::Electricity(190),
            Biller::Gas(80),
            Biller::Water(45),
            Biller::Mobile { carrier: catalog::CHINA_MOBILE, plan: 88 },
            Biller::Property { company: catalog::GREENTOWN, monthly: 300 },
        ],
        late_bills: 2,
        missed_bills: 1,
        ..BASE
    },
    Profile {
        id: "A1008",
        band: Band::NearGate,
        summary: "Polish engineer in Shanghai since 2022, long-held Polish phone; CNY ~90k savings, 3 late and 1 missed bill, 13 months",
        full_name: "Łukasz KOWALSKI-ZHANG",
        date_of_birth: ymd(1989, 12, 3),
        nationality: "POL",
        passport_number: "EK4829163",
        passport_country: "POL",
        phone: "+48601234567",
        email: "lukasz.kowalski-zhang@example.com",
        opened_on: ymd(2022, 2, 15),
        phone_since: ymd(2010, 5, 1),
        address_since: ymd(2022, 2, 1),
        history_months: 13,
        income: salary(24_000, 10, "上海华沙精密机械有限公司 Shanghai Warsaw Precision Machinery Co., Ltd."),
        savings_rate_pct: 10,
        keep_in_current: 10_000,
        rent: 6_800,
        monthly_spending: 13_900,
        holdings: &[current(15_000), savings(45_000)],
        billers: &[
            Biller::Electricity(160),
            Biller::Gas(60),
            Biller::Water(40),
            Biller::Mobile { carrier: catalog::CHINA_UNICOM, plan: 59 },
        ],
        late_bills: 3,
        missed_bills: 1,
        ..BASE
    },
    Profile {
        id: "A1009",
        band: Band::Weak,
        summary: "student, thin file: account opened 3 months ago, a few hundred yuan, one missed phone bill",
        full_name: "WU Xiaoming",
        date_of_birth: ymd(2003, 5, 14),
        passport_number: "E90125734",
        phone: "+8619512873046",
        email: "wu.xiaoming@example.com",
        opened_on: ymd(2026, 8, 21),
        phone_since: ymd(2026, 8, 1),
        address_since: ymd(2026, 8, 15),
        history_months: 3,
        income: Income {
            monthly: 1_800,
            day: 1,
            category: "transfer_in",
            payer: "微信转账 WeChat Pay transfer from family",
        },
        savings_rate_pct: 0,
        keep_in_current: 0,
        floor: 100,
        monthly_spending: 1_750,
        spending_volatility_pct: 25,
        tx_per_day_tenths: 25,
        holdings: &[current(300)],
        billers: &[Biller::Electricity(60), Biller::Mobile { carrier: catalog::CHINA_UNICOM, plan: 39 }],
        missed_bills: 1,
        ..BASE
    },
    Profile {
        id: "A1010",
        band: Band::Weak,
        summary: "delivery-platform contractor in Shenzhen; little savings, frequent late (22) and missed (8) bills",
        full_name: "XU Lei",
        date_of_birth: ymd(1984, 3, 22),
        passport_number: "E27719408",
        phone: "+8613012345098",
        email: "xu.lei@example.com",
        opened_on: ymd(2020, 9, 9),
        phone_since: ymd(2023, 5, 1),
        address_since: ymd(2024, 12, 1),
        city: catalog::SHENZHEN,
        history_months: 24,
        income: salary(11_000, 25, "深圳快送物流服务有限公司 Shenzhen Kuaisong Logistics Services Co., Ltd."),
        savings_rate_pct: 3,
        keep_in_current: 2_000,
        floor: 800,
        rent: 3_200,
        landlord: catalog::LIANJIA,
        monthly_spending: 6_700,
        spending_volatility_pct: 60,
        tx_per_day_tenths: 28,
        holdings: &[current(2_500), savings(8_000)],
        billers: &[
            Biller::Electricity(150),
            Biller::Gas(50),
            Biller::Water(35),
            Biller::Mobile { carrier: catalog::CHINA_TELECOM, plan: 59 },
            Biller::Property { company: catalog::COUNTRY_GARDEN, monthly: 180 },
        ],
        late_bills: 22,
        missed_bills: 8,
        ..BASE
    },
    Profile {
        id: "A1011",
        band: Band::Weak,
        summary: "thin saver (CNY ~25k underneath), 4 late bills; the current account jumps by a CNY 200,000 transfer_in three weeks before the as-of date",
        full_name: "SUN Hao",
        date_of_birth: ymd(1992, 10, 5),
        passport_number: "E43086251",
        phone: "+8617702138465",
        email: "sun.hao@example.com",
        opened_on: ymd(2019, 11, 3),
        phone_since: ymd(2018, 1, 1),
        address_since: ymd(2023, 3, 1),
        income: salary(12_500, 10, "上海万家便利连锁有限公司 Shanghai Wanjia Convenience Stores Co., Ltd."),
        savings_rate_pct: 8,
        current_cap: 10_000_000,
        keep_in_current: 4_000,
        rent: 3_800,
        monthly_spending: 7_000,
        holdings: &[current(4_000), savings(8_000)],
        billers: &[
            Biller::Electricity(140),
            Biller::Gas(50),
            Biller::Water(40),
            Biller::Mobile { carrier: catalog::CHINA_MOBILE, plan: 68 },
        ],
        late_bills: 4,
        events: &[Event {
            on: ymd(2026, 10, 31),
            amount: 200_000,
            category: "transfer_in",
            merchant: "跨行转账 Inbound transfer, ICBC ****7302",
        }],
        ..BASE
    },
    Profile {
        id: "A1012",
        band: Band::Strong,
        summary: "Japanese consultant in Shanghai; CNY savings plus a USD 48,000 savings holding, no late bills",
        full_name: "Zoë Łucja ŌTSUKA-NÚÑEZ",
        date_of_birth: ymd(1986, 2, 28),
        nationality: "JPN",
        passport_number: "TZ1234567",
        passport_country: "JPN",
        phone: "+819012345678",
        email: "zoe.otsuka-nunez@example.com",
        opened_on: ymd(2018, 9, 3),
        phone_since: ymd(2018, 8, 20),
        address_since: ymd(2019, 2, 1),
        history_months: 20,
        income: salary(38_000, 10, "上海瑞合咨询有限公司 Shanghai Ruihe Consulting Co., Ltd."),
        savings_rate_pct: 25,
        current_cap: 50_000,
        keep_in_current: 20_000,
        floor: 4_000,
        rent: 12_000,
        insurance: 900,
        monthly_spending: 14_300,
        holdings: &[
            current(30_000),
            savings(260_000),
            HoldingSpec {
                kind: HoldingKind::Savings,
                currency: Currency::USD,
                start: 48_000,
                rate_bp: 350,
                daily_vol_bp: 0,
            },
        ],
        billers: &[
            Biller::Electricity(240),
            Biller::Gas(80),
            Biller::Water(50),
            Biller::Mobile { carrier: catalog::CHINA_MOBILE, plan: 128 },
        ],
        ..BASE
    },
    Profile {
        id: "A1013",
        band: Band::Strong,
        summary: "benchmark: 5 years of data, ~11 purchases a day (~20,000 transactions), steady saver, 2 late bills",
        full_name: "MA Jun",
        date_of_birth: ymd(1982, 7, 19),
        passport_number: "E15937264",
        phone: "+8613901763528",
        email: "ma.jun@example.com",
        opened_on: ymd(2012, 2, 1),
        phone_since: ymd(2010, 5, 1),
        address_since: ymd(2014, 9, 1),
        history_months: 60,
        income: salary(26_000, 10, "上海东方物流集团有限公司 Shanghai Dongfang Logistics Group Co., Ltd."),
        savings_rate_pct: 18,
        current_cap: 40_000,
        keep_in_current: 10_000,
        floor: 2_500,
        insurance: 500,
        monthly_spending: 19_300,
        spending_volatility_pct: 20,
        tx_per_day_tenths: 106,
        holdings: &[current(15_000), savings(90_000), money_market(40_000)],
        late_bills: 2,
        ..BASE
    },
    Profile {
        id: "A1014",
        band: Band::Weak,
        summary: "retail clerk, moved to Shanghai in 2025: new account and address, number since 2024; clean bills but low assets (CNY ~20k)",
        full_name: "ZHOU Ting",
        date_of_birth: ymd(1998, 12, 1),
        passport_number: "E84620317",
        phone: "+8613162849507",
        email: "zhou.ting@example.com",
        opened_on: ymd(2025, 3, 4),
        phone_since: ymd(2024, 5, 1),
        address_since: ymd(2025, 2, 1),
        income: salary(8_000, 10, "上海百联集团股份有限公司 Shanghai Bailian Group Co., Ltd."),
        savings_rate_pct: 8,
        keep_in_current: 2_500,
        floor: 600,
        rent: 2_600,
        monthly_spending: 4_300,
        holdings: &[current(3_000), savings(12_000)],
        billers: &[
            Biller::Electricity(110),
            Biller::Water(30),
            Biller::Mobile { carrier: catalog::CHINA_MOBILE, plan: 58 },
        ],
        ..BASE
    },
];
