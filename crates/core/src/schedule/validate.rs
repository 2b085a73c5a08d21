//! Checks of `plan`, `groups` and `price_rules`: every profile they name exists, periods are
//! not empty, exceptions name their dates one way, groups name real miners once.

use std::collections::BTreeMap;

use super::{Exception, Period, PlanConfig};
use crate::config::{key, Config, Problem, Seg};
use crate::profiles;

/// Every problem, each with its key path.
pub fn validate(cfg: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Some(plan) = &cfg.plan {
        check_plan(cfg, plan, vec![key("plan")], &mut out);
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, group) in &cfg.groups {
        let at = vec![key("groups"), key(name)];
        if name.trim().is_empty() {
            out.push(Problem {
                path: at.clone(),
                message: "a group needs a name".into(),
            });
        }
        for (i, m) in group.miners.iter().enumerate() {
            let here = [at.clone(), vec![key("miners"), Seg::Index(i)]].concat();
            if !cfg.miners.iter().any(|x| x.name == *m) {
                out.push(Problem {
                    path: here,
                    message: format!("no miner is named {m:?}"),
                });
            } else if let Some(other) = seen.insert(m, name) {
                out.push(Problem {
                    path: here,
                    message: format!(
                        "{m:?} is already in group {other:?}; a miner belongs to one group"
                    ),
                });
            }
        }
        if let Some(plan) = &group.plan {
            check_plan(cfg, plan, [at, vec![key("plan")]].concat(), &mut out);
        }
    }
    for (i, rule) in cfg.price_rules.iter().enumerate() {
        let at = vec![key("price_rules"), Seg::Index(i)];
        check_profile(
            cfg,
            &rule.profile,
            [at.clone(), vec![key("profile")]].concat(),
            &mut out,
        );
        if rule.max_price.is_some_and(|p| !p.is_finite()) {
            out.push(Problem {
                path: [at.clone(), vec![key("max_price")]].concat(),
                message: "must be a number".into(),
            });
        }
        if let Some(h) = rule.cheapest_hours {
            if !(h > 0.0 && h <= 24.0) {
                out.push(Problem {
                    path: [at.clone(), vec![key("cheapest_hours")]].concat(),
                    message: format!("{h} must be more than 0 and at most 24 hours"),
                });
            }
        }
        if rule.max_price.is_some() && rule.cheapest_hours.is_some() {
            out.push(Problem {
                path: at.clone(),
                message: "a rule has max_price or cheapest_hours, not both (make two rules)".into(),
            });
        }
        for (j, g) in rule.groups.iter().flatten().enumerate() {
            if !cfg.groups.contains_key(g) {
                out.push(Problem {
                    path: [at.clone(), vec![key("groups"), Seg::Index(j)]].concat(),
                    message: format!("no group is named {g:?}"),
                });
            }
        }
    }
    out
}

fn check_profile(cfg: &Config, name: &str, at: Vec<Seg>, out: &mut Vec<Problem>) {
    if name == profiles::SAFE {
        out.push(Problem {
            path: at,
            message: "safe is the emergency profile and is never planned".into(),
        });
    } else if !profiles::exists(cfg, name) {
        out.push(Problem {
            path: at,
            message: format!("no profile is named {name:?} ({})", profiles::known(cfg)),
        });
    }
}

fn check_periods(
    cfg: &Config,
    periods: &[Period],
    at: Vec<Seg>,
    weekly: bool,
    out: &mut Vec<Problem>,
) {
    for (i, p) in periods.iter().enumerate() {
        let here = [at.clone(), vec![Seg::Index(i)]].concat();
        check_profile(
            cfg,
            &p.profile,
            [here.clone(), vec![key("profile")]].concat(),
            out,
        );
        if p.from == p.to {
            out.push(Problem {
                path: [here.clone(), vec![key("to")]].concat(),
                message: format!(
                    "the period starts and ends at {}: it would be empty",
                    p.from
                ),
            });
        }
        if !weekly && p.days.is_some() {
            out.push(Problem {
                path: [here.clone(), vec![key("days")]].concat(),
                message: "an exception's periods run on its dates; leave days out".into(),
            });
        }
        if p.days.as_ref().is_some_and(|d| d.is_empty()) {
            out.push(Problem {
                path: [here, vec![key("days")]].concat(),
                message: "an empty list of days never runs; leave days out for every day".into(),
            });
        }
    }
}

fn check_exception(cfg: &Config, x: &Exception, at: Vec<Seg>, out: &mut Vec<Problem>) {
    check_profile(
        cfg,
        &x.profile,
        [at.clone(), vec![key("profile")]].concat(),
        out,
    );
    match (x.date, x.from, x.to) {
        (Some(_), None, None) | (None, Some(_), None) => {}
        (None, Some(a), Some(b)) if a <= b => {}
        (None, Some(_), Some(_)) => out.push(Problem {
            path: [at.clone(), vec![key("to")]].concat(),
            message: "the last date is before the first".into(),
        }),
        _ => out.push(Problem {
            path: at.clone(),
            message: "give either date, or from (and optionally to), as YYYY-MM-DD".into(),
        }),
    }
    check_periods(
        cfg,
        &x.periods,
        [at, vec![key("periods")]].concat(),
        false,
        out,
    );
}

fn check_plan(cfg: &Config, plan: &PlanConfig, at: Vec<Seg>, out: &mut Vec<Problem>) {
    check_profile(
        cfg,
        &plan.default,
        [at.clone(), vec![key("default")]].concat(),
        out,
    );
    check_periods(
        cfg,
        &plan.week,
        [at.clone(), vec![key("week")]].concat(),
        true,
        out,
    );
    for (i, x) in plan.exceptions.iter().enumerate() {
        check_exception(
            cfg,
            x,
            [at.clone(), vec![key("exceptions"), Seg::Index(i)]].concat(),
            out,
        );
    }
}
