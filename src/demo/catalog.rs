//! Names the demo data draws from: merchants with a spending category, a
//! relative frequency and a typical ticket, and the utilities of each city.
//! Names are bilingual as they appear on Chinese bank statements.

use super::dice::{Dice, cumulative};

/// A place where applicants spend money.
#[derive(Debug, Clone, Copy)]
pub struct Merchant {
    pub category: &'static str,
    pub name: &'static str,
    /// Relative frequency among an applicant's purchases.
    pub weight: u64,
    /// A typical ticket in yuan.
    pub typical: i64,
    /// How much of a richer (or poorer) applicant's budget shows in the
    /// ticket, in percent: a metro ride costs the same for everyone (0), a
    /// shopping basket grows with the budget (100).
    pub elasticity_pct: i64,
    pub price: Price,
}

/// How a ticket's amount is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Price {
    /// Varies from purchase to purchase, to the fen.
    Varies,
    /// Varies, in whole yuan (fares).
    WholeYuan,
    /// Always the typical amount (subscriptions).
    Fixed,
}

/// Stands in for the applicant's city's metro or subway operator.
pub(crate) const METRO: &str = "@metro";

const fn m(category: &'static str, name: &'static str, weight: u64, typical: i64, elasticity_pct: i64) -> Merchant {
    Merchant { category, name, weight, typical, elasticity_pct, price: Price::Varies }
}

const fn fare(category: &'static str, name: &'static str, weight: u64, typical: i64) -> Merchant {
    Merchant { category, name, weight, typical, elasticity_pct: 0, price: Price::WholeYuan }
}

const fn subscription(name: &'static str, weight: u64, price: i64) -> Merchant {
    Merchant { category: "entertainment", name, weight, typical: price, elasticity_pct: 0, price: Price::Fixed }
}

/// Everyday spending, weighted by how often people shop there.
pub const MERCHANTS: &[Merchant] = &[
    m("groceries", "盒马鲜生 Hema", 100, 95, 70),
    m("groceries", "永辉超市 Yonghui Superstores", 50, 120, 70),
    m("groceries", "叮咚买菜 Dingdong Maicai", 60, 70, 70),
    m("groceries", "全家 FamilyMart", 80, 18, 30),
    m("groceries", "家乐福 Carrefour", 20, 180, 70),
    m("dining", "美团外卖 Meituan Waimai", 140, 38, 50),
    m("dining", "饿了么 Ele.me", 60, 35, 50),
    m("dining", "瑞幸咖啡 Luckin Coffee", 80, 16, 10),
    m("dining", "星巴克 Starbucks", 40, 36, 10),
    m("dining", "海底捞 Haidilao", 12, 260, 80),
    m("dining", "美团 Meituan", 30, 120, 80),
    m("transport", "滴滴出行 DiDi", 90, 32, 60),
    fare("transport", METRO, 110, 5),
    fare("transport", "哈啰出行 Hello Bike", 30, 2),
    m("transport", "中国石化 Sinopec", 20, 330, 30),
    m("transport", "中国石油 PetroChina", 8, 320, 30),
    m("transport", "中国铁路12306 China Railway", 8, 280, 80),
    m("shopping", "京东 JD.com", 45, 260, 100),
    m("shopping", "淘宝 Taobao", 50, 140, 100),
    m("shopping", "拼多多 Pinduoduo", 30, 60, 80),
    m("shopping", "优衣库 Uniqlo", 8, 320, 90),
    m("shopping", "屈臣氏 Watsons", 10, 110, 80),
    m("health", "老百姓大药房 LBX Pharmacy", 15, 85, 60),
    m("health", "平安好医生 Ping An Good Doctor", 6, 60, 40),
    m("health", "美年大健康 Meinian Health", 1, 980, 80),
    m("education", "新东方 New Oriental", 2, 1800, 100),
    m("education", "得到 Dedao", 3, 199, 30),
    m("education", "网易有道 Youdao", 3, 300, 80),
    m("travel", "携程旅行 Trip.com", 4, 1500, 100),
    m("travel", "中国东方航空 China Eastern Airlines", 2, 1900, 100),
    m("travel", "华住会 H World Hotels", 4, 450, 100),
    subscription("爱奇艺 iQIYI", 8, 25),
    subscription("腾讯视频 Tencent Video", 8, 30),
    m("entertainment", "万达影城 Wanda Cinemas", 15, 90, 50),
    subscription("网易云音乐 NetEase Cloud Music", 6, 15),
    m("entertainment", "大麦网 Damai", 1, 680, 100),
];

/// Where an applicant lives: it decides the metro and the utilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct City {
    pub metro: &'static str,
    pub electricity: &'static str,
    pub gas: &'static str,
    pub water: &'static str,
}

pub const SHANGHAI: City = City {
    metro: "上海地铁 Shanghai Metro",
    electricity: "国家电网 State Grid Shanghai",
    gas: "上海燃气 Shanghai Gas",
    water: "上海城投水务 Shanghai Water",
};

pub const BEIJING: City = City {
    metro: "北京地铁 Beijing Subway",
    electricity: "国家电网 State Grid Beijing",
    gas: "北京燃气 Beijing Gas",
    water: "北京自来水 Beijing Waterworks",
};

pub const SHENZHEN: City = City {
    metro: "深圳地铁 Shenzhen Metro",
    electricity: "南方电网 China Southern Power Grid Shenzhen",
    gas: "深圳燃气 Shenzhen Gas",
    water: "深圳水务 Shenzhen Water",
};

pub const CHINA_MOBILE: &str = "中国移动 China Mobile";
pub const CHINA_UNICOM: &str = "中国联通 China Unicom";
pub const CHINA_TELECOM: &str = "中国电信 China Telecom";

pub const VANKE: &str = "万科物业 Vanke Property Services";
pub const COUNTRY_GARDEN: &str = "碧桂园服务 Country Garden Services";
pub const GREENTOWN: &str = "绿城服务 Greentown Service";

pub const ZIROOM: &str = "自如 Ziroom";
pub const LIANJIA: &str = "链家 Lianjia";

pub const PING_AN: &str = "中国平安 Ping An Insurance";
pub const CHINA_LIFE: &str = "中国人寿 China Life";

pub(crate) const CURRENT_INTEREST: &str = "活期利息 Interest on current account";
pub(crate) const TO_SAVINGS: &str = "转存 Transfer to own savings";

/// Electricity by month of the due date, in percent of a typical bill:
/// air conditioning in summer, heating in winter.
pub(crate) const ELECTRICITY_SEASON: [i64; 12] = [150, 140, 100, 80, 80, 105, 165, 180, 125, 85, 85, 120];
/// Gas by month of the due date, in percent: heating and hot water in winter.
pub(crate) const GAS_SEASON: [i64; 12] = [170, 160, 120, 90, 70, 60, 55, 55, 65, 80, 110, 150];

/// Draws purchases from [`MERCHANTS`] so that the average ticket is a given
/// amount: the budget is spread by each merchant's elasticity, so a richer
/// applicant buys bigger baskets and dearer flights, not dearer metro rides.
pub(crate) struct Basket {
    cumulative: Vec<u64>,
    /// Per merchant: the typical ticket in fen after scaling to the budget.
    tickets: Vec<f64>,
}

impl Basket {
    /// `average` is the expected amount of one purchase, in fen.
    pub(crate) fn new(average: f64) -> Self {
        let total: f64 = MERCHANTS.iter().map(|m| m.weight as f64).sum();
        let typical = |m: &Merchant| (m.typical * 100) as f64;
        let mean: f64 = MERCHANTS.iter().map(|m| m.weight as f64 * typical(m)).sum::<f64>() / total;
        let elastic: f64 =
            MERCHANTS.iter().map(|m| m.weight as f64 * typical(m) * m.elasticity_pct as f64 / 100.0).sum::<f64>()
                / total;
        // Solve mean + (s - 1) * elastic = average for the scale s.
        let stretch = if elastic > 0.0 { (average - mean) / elastic } else { 0.0 };
        let tickets =
            MERCHANTS.iter().map(|m| typical(m) * (1.0 + stretch * m.elasticity_pct as f64 / 100.0).max(0.1)).collect();
        Basket { cumulative: cumulative(MERCHANTS.iter().map(|m| m.weight)), tickets }
    }

    /// One purchase: the merchant and the amount in fen (positive). Always
    /// takes the same number of draws from `dice`.
    pub(crate) fn draw(&self, dice: &mut Dice, month_factor: f64) -> (&'static Merchant, i64) {
        let i = dice.weighted(&self.cumulative);
        let noise = (1.0 + 0.45 * dice.gauss()).max(0.2);
        let (Some(m), Some(ticket)) = (MERCHANTS.get(i), self.tickets.get(i)) else {
            return (&MERCHANTS[0], 100);
        };
        let minor = match m.price {
            Price::Fixed => m.typical * 100,
            Price::Varies => (ticket * month_factor * noise).round().max(1.0) as i64,
            Price::WholeYuan => ((ticket * month_factor * noise) / 100.0).round().max(1.0) as i64 * 100,
        };
        (m, minor)
    }
}

/// The banks that hold the demo applicants' accounts; each applicant banks
/// with one of them (chosen by the account id, so the dice are not drawn).
const BANKS: [&str; 6] = [
    "Industrial and Commercial Bank of China (ICBC)",
    "China Construction Bank",
    "Bank of China",
    "Agricultural Bank of China",
    "China Merchants Bank",
    "Bank of Communications",
];

/// The institution that holds a demo holding of `kind` for `account`.
pub(crate) fn institution(account: &str, kind: crate::domain::HoldingKind) -> &'static str {
    use crate::domain::HoldingKind;
    let n = account.bytes().map(usize::from).sum::<usize>();
    match kind {
        HoldingKind::Current | HoldingKind::Savings | HoldingKind::TimeDeposit => BANKS[n % BANKS.len()],
        HoldingKind::MoneyMarketFund => "Tianhong Asset Management (Yu'e Bao)",
        HoldingKind::Investment => {
            if n % 2 == 0 {
                "Huatai Securities"
            } else {
                "China International Capital Corporation (CICC)"
            }
        }
    }
}
