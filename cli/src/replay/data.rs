//! FiveThirtyEight's NBA forecasts: loading the played games, their ids, stages and outcomes.
//!
//! Two sources, both described in `data/SOURCES.md`:
//! - `data/nba_elo_latest/*.csv`, seasons 2019-20 to 2022-23, with Elo and RAPTOR probabilities.
//!   The two 2019-20 files overlap on 900 games with identical values, so each game is kept once.
//! - `data/nba_elo_1947-2020_fivethirtyeightdata.csv.gz`, Elo only, used for the seasons before
//!   2019-20. Its `playoff` column is unreliable after 2015 (see [`Stage`] for how stages are
//!   recovered there).

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    fs::File,
    io::{BufReader, Read},
    path::{Path, PathBuf},
    str::FromStr,
};

use chrono::NaiveDate;
use flate2::read::GzDecoder;
use serde::Deserialize;

/// The folder, under `data/`, of the per-season files with Elo and RAPTOR.
pub const LATEST_DIR: &str = "nba_elo_latest";
/// The file, under `data/`, of every season from 1946-47 to 2019-20, Elo only.
pub const HISTORY_FILE: &str = "nba_elo_1947-2020_fivethirtyeightdata.csv.gz";
/// The first season, by its end year, of the per-season files. History stops before it.
pub const FIRST_LATEST_SEASON: u16 = 2020;
/// The last season of the per-season files, by its end year.
pub const LAST_LATEST_SEASON: u16 = 2023;
/// The first season of the history file, by its end year (1946-47).
pub const FIRST_HISTORY_SEASON: u16 = 1947;
/// The first season whose history `playoff` flags were lost in the file's conversion.
const FIRST_UNFLAGGED_SEASON: u16 = 2016;
/// Regular-season games per team in the seasons whose playoff flags were lost (2015-16 to 2018-19).
const REGULAR_SEASON_GAMES: u32 = 82;

/// An error reading the forecast data, naming the file or value and what to do.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A data file or folder could not be opened or read.
    #[error(
        "could not read {path}: {source}; run from a clone of the repository, whose data/ folder holds the forecasts"
    )]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A row could not be parsed.
    #[error("invalid row {row} in {path}: {detail}; the file may be damaged, restore it with `git checkout -- data/`")]
    Row {
        /// The file.
        path: PathBuf,
        /// The 1-based data row (the header is row 0).
        row: usize,
        /// The problem found.
        detail: String,
    },
    /// A season string that is not `YYYY-YY`.
    #[error("invalid season {value:?}: write it as the two years it spans, for example 2022-23")]
    InvalidSeason {
        /// The rejected string.
        value: String,
    },
    /// The selection contains no played game.
    #[error("the data holds no played game to replay; restore data/ with `git checkout -- data/`")]
    NoGames,
    /// A season outside the data that is loaded.
    #[error("season {season} is not in the data: {hint}")]
    SeasonNotFound {
        /// The season asked for.
        season: Season,
        /// The seasons that exist and how to reach them.
        hint: String,
    },
}

/// An NBA season, named by the year it ends in (2022-23 is 2023), as 538's `season` column is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Season(pub u16);

impl FromStr for Season {
    type Err = DataError;

    /// Parses `2022-23`; the second part must be the year after the first, modulo 100.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = || DataError::InvalidSeason {
            value: value.to_string(),
        };
        let (start, end) = value.split_once('-').ok_or_else(invalid)?;
        if start.len() != 4 || end.len() != 2 {
            return Err(invalid());
        }
        let start: u16 = start.parse().map_err(|_| invalid())?;
        let end: u16 = end.parse().map_err(|_| invalid())?;
        if (start + 1) % 100 != end {
            return Err(invalid());
        }
        Ok(Self(start + 1))
    }
}

impl fmt::Display for Season {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.0 - 1, self.0 % 100)
    }
}

/// The part of a season a game belongs to, sent as the `stage` segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Regular season.
    Regular,
    /// Play-in tournament (538's `playoff` = `p`), from 2020.
    PlayIn,
    /// Playoff rounds (`q`, `s`, `c`, `f` in the per-season files; `TRUE` in the history file).
    Playoffs,
}

impl Stage {
    /// Every stage, in season order.
    pub const ALL: [Stage; 3] = [Stage::Regular, Stage::PlayIn, Stage::Playoffs];

    /// Returns the segment value: `regular`, `play-in` or `playoffs`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Stage::Regular => "regular",
            Stage::PlayIn => "play-in",
            Stage::Playoffs => "playoffs",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One played game with the pre-game forecasts for team1.
#[derive(Debug, Clone, PartialEq)]
pub struct Game {
    /// The prediction id: `{date}-{team1}-{team2}`, with `-2` for a second game on the same day.
    pub id: String,
    /// The game's date (538 gives no tip-off time).
    pub date: NaiveDate,
    /// The season the game belongs to.
    pub season: Season,
    /// Regular season, play-in or playoffs.
    pub stage: Stage,
    /// True when played at a neutral site (the 2020 bubble), so team1 is not the home team.
    pub neutral: bool,
    /// 538's team code for team1, the home team unless `neutral`.
    pub team1: String,
    /// 538's team code for team2.
    pub team2: String,
    /// Elo's probability that team1 wins.
    pub elo_prob1: f64,
    /// RAPTOR's probability that team1 wins; `None` before 2019-20.
    pub raptor_prob1: Option<f64>,
    /// Points scored by team1.
    pub score1: u32,
    /// Points scored by team2.
    pub score2: u32,
}

impl Game {
    /// Returns the outcome the forecasts predict: true when team1 won.
    pub fn team1_won(&self) -> bool {
        self.score1 > self.score2
    }
}

/// One CSV row as both files write it; the history file spells `neutral` TRUE/FALSE.
#[derive(Debug, Deserialize)]
struct Row {
    date: String,
    season: u16,
    neutral: String,
    playoff: String,
    team1: String,
    team2: String,
    elo_prob1: Option<f64>,
    raptor_prob1: Option<f64>,
    score1: Option<u32>,
    score2: Option<u32>,
}

/// The file a row came from, because the two spell flags differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Latest,
    History,
}

/// Loads the played games of the per-season files, each game once, in date then id order.
pub fn load_latest(data_dir: &Path) -> Result<Vec<Game>, DataError> {
    let dir = data_dir.join(LATEST_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|source| DataError::Read {
        path: dir.clone(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| DataError::Read {
            path: dir.clone(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "csv") {
            paths.push(path);
        }
    }
    // Later snapshots come last in name order, so their rows replace earlier copies of a game.
    paths.sort();

    let mut games = BTreeMap::new();
    for path in &paths {
        let file = File::open(path).map_err(|source| DataError::Read {
            path: path.clone(),
            source,
        })?;
        for game in parse_games(BufReader::new(file), path, Source::Latest)? {
            games.insert((game.date, game.id.clone()), game);
        }
    }
    Ok(games.into_values().collect())
}

/// Loads the played games of the history file from 1946-47 up to, not including, 2019-20.
pub fn load_history(data_dir: &Path) -> Result<Vec<Game>, DataError> {
    let path = data_dir.join(HISTORY_FILE);
    let file = File::open(&path).map_err(|source| DataError::Read {
        path: path.clone(),
        source,
    })?;
    let mut games = parse_games(GzDecoder::new(BufReader::new(file)), &path, Source::History)?;
    games.retain(|game| game.season.0 < FIRST_LATEST_SEASON);
    recover_playoff_stages(&mut games);
    games.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    Ok(games)
}

/// Selects the games of the replay: one season, or every season loaded.
pub fn select_season(games: Vec<Game>, season: Option<Season>, history: bool) -> Result<Vec<Game>, DataError> {
    let Some(season) = season else {
        return Ok(games);
    };
    let selected: Vec<Game> = games.into_iter().filter(|game| game.season == season).collect();
    if !selected.is_empty() {
        return Ok(selected);
    }
    let first = Season(if history {
        FIRST_HISTORY_SEASON
    } else {
        FIRST_LATEST_SEASON
    });
    let mut hint = format!("choose one from {first} to {}", Season(LAST_LATEST_SEASON));
    if !history && (FIRST_HISTORY_SEASON..FIRST_LATEST_SEASON).contains(&season.0) {
        hint.push_str(", or add --history for the seasons before 2019-20");
    }
    Err(DataError::SeasonNotFound { season, hint })
}

/// Parses the played games of one CSV, giving each its id in file order.
fn parse_games<R: Read>(reader: R, path: &Path, source: Source) -> Result<Vec<Game>, DataError> {
    let mut csv = csv::Reader::from_reader(reader);
    let mut games = Vec::new();
    let mut games_per_matchup: HashMap<(NaiveDate, String, String), u32> = HashMap::new();
    for (index, record) in csv.deserialize::<Row>().enumerate() {
        let row_number = index + 1;
        let invalid = |detail: String| DataError::Row {
            path: path.to_path_buf(),
            row: row_number,
            detail,
        };
        let row = record.map_err(|error| invalid(error.to_string()))?;
        let date = NaiveDate::parse_from_str(&row.date, "%Y-%m-%d")
            .map_err(|_| invalid(format!("date {:?} is not YYYY-MM-DD", row.date)))?;

        // Numbering counts scheduled games too, so a game's id does not depend on which
        // snapshot of the season it was read from.
        let count = games_per_matchup
            .entry((date, row.team1.clone(), row.team2.clone()))
            .or_default();
        *count += 1;
        let (Some(score1), Some(score2)) = (row.score1, row.score2) else {
            continue;
        };

        let elo_prob1 = row.elo_prob1.ok_or_else(|| invalid("elo_prob1 is empty".to_string()))?;
        check_probability(elo_prob1, "elo_prob1").map_err(&invalid)?;
        if let Some(raptor) = row.raptor_prob1 {
            check_probability(raptor, "raptor_prob1").map_err(&invalid)?;
        }
        let neutral = parse_flag(&row.neutral).map_err(&invalid)?;
        let stage = match source {
            Source::Latest => parse_latest_stage(&row.playoff).map_err(&invalid)?,
            Source::History => parse_history_stage(&row.playoff),
        };
        let mut id = format!("{}-{}-{}", row.date, row.team1, row.team2);
        if *count > 1 {
            id.push_str(&format!("-{count}"));
        }
        games.push(Game {
            id,
            date,
            season: Season(row.season),
            stage,
            neutral,
            team1: row.team1,
            team2: row.team2,
            elo_prob1,
            raptor_prob1: row.raptor_prob1,
            score1,
            score2,
        });
    }
    Ok(games)
}

fn check_probability(value: f64, column: &str) -> Result<(), String> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(format!("{column} {value} is not a probability in [0, 1]"))
    }
}

/// Parses `neutral`, written 0/1 in the per-season files and FALSE/TRUE in the history file.
fn parse_flag(value: &str) -> Result<bool, String> {
    match value {
        "0" | "FALSE" => Ok(false),
        "1" | "TRUE" => Ok(true),
        other => Err(format!("neutral {other:?} is not 0, 1, TRUE or FALSE")),
    }
}

/// Parses the per-season files' `playoff`: empty, `p` (play-in) or a round letter.
fn parse_latest_stage(value: &str) -> Result<Stage, String> {
    match value {
        "" => Ok(Stage::Regular),
        "p" => Ok(Stage::PlayIn),
        "q" | "s" | "c" | "f" => Ok(Stage::Playoffs),
        other => Err(format!("playoff {other:?} is not empty, p, q, s, c or f")),
    }
}

/// Parses the history file's `playoff`, TRUE for playoff games up to 2014-15 and lost after it.
fn parse_history_stage(value: &str) -> Stage {
    if value == "TRUE" {
        Stage::Playoffs
    } else {
        Stage::Regular
    }
}

/// Marks the playoff games of the history seasons whose flags were lost (2015-16 to 2018-19).
///
/// Every team played 82 regular-season games in those seasons, so a game is a playoff game when
/// it is a team's 83rd or later of the season. On this file that yields 1,230 regular-season
/// games in each of the four seasons, the league's schedule for 30 teams.
fn recover_playoff_stages(games: &mut [Game]) {
    games.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let mut played: HashMap<(Season, String), u32> = HashMap::new();
    for game in games.iter_mut() {
        if game.season.0 < FIRST_UNFLAGGED_SEASON {
            continue;
        }
        let mut beyond_regular_season = false;
        for team in [&game.team1, &game.team2] {
            let count = played.entry((game.season, team.clone())).or_default();
            *count += 1;
            beyond_regular_season |= *count > REGULAR_SEASON_GAMES;
        }
        if beyond_regular_season {
            game.stage = Stage::Playoffs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "date,season,neutral,playoff,team1,team2,elo1_pre,elo2_pre,elo_prob1,elo_prob2,\
                          raptor_prob1,score1,score2\n";

    fn parse(body: &str) -> Result<Vec<Game>, DataError> {
        let text = format!("{HEADER}{body}");
        parse_games(text.as_bytes(), Path::new("test.csv"), Source::Latest)
    }

    fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
    }

    /// Loads the history file once for every test, because it takes seconds to parse in a debug build.
    fn history() -> &'static [Game] {
        static HISTORY: std::sync::OnceLock<Vec<Game>> = std::sync::OnceLock::new();
        HISTORY.get_or_init(|| load_history(&data_dir()).unwrap())
    }

    #[test]
    fn season_parses_span() {
        assert_eq!("2022-23".parse::<Season>().unwrap(), Season(2023));
    }

    #[test]
    fn season_parses_century_turn() {
        assert_eq!("1999-00".parse::<Season>().unwrap(), Season(2000));
    }

    #[test]
    fn season_rejects_bad_forms() {
        for bad in ["2023", "2022-24", "22-23", "2022-2023", "abcd-ef", ""] {
            assert!(bad.parse::<Season>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn season_displays_span() {
        assert_eq!(Season(2000).to_string(), "1999-00");
    }

    #[test]
    fn parse_builds_id_from_date_and_teams() {
        let games = parse("2023-06-12,2023,0,f,DEN,MIA,1,1,0.64,0.36,0.6,94,89\n").unwrap();
        assert_eq!(games[0].id, "2023-06-12-DEN-MIA");
    }

    #[test]
    fn parse_numbers_second_game_same_day() {
        let body =
            "1950-01-01,1950,FALSE,,AAA,BBB,1,1,0.5,0.5,,90,80\n1950-01-01,1950,FALSE,,AAA,BBB,1,1,0.5,0.5,,70,80\n";
        let text = format!("{HEADER}{body}");
        let games = parse_games(text.as_bytes(), Path::new("h.csv"), Source::History).unwrap();
        assert_eq!(games[1].id, "1950-01-01-AAA-BBB-2");
    }

    #[test]
    fn parse_skips_unplayed_games() {
        let games = parse("2023-06-12,2023,0,f,DEN,MIA,1,1,0.64,0.36,0.6,,\n").unwrap();
        assert!(games.is_empty());
    }

    #[test]
    fn parse_outcome_is_team1_win() {
        let games = parse("2023-06-12,2023,0,f,DEN,MIA,1,1,0.64,0.36,0.6,89,94\n").unwrap();
        assert!(!games[0].team1_won());
    }

    #[test]
    fn parse_maps_play_in_stage() {
        let games = parse("2023-04-11,2023,0,p,ATL,MIA,1,1,0.4,0.6,0.4,116,105\n").unwrap();
        assert_eq!(games[0].stage, Stage::PlayIn);
    }

    #[test]
    fn parse_rejects_probability_above_one() {
        let error = parse("2023-04-11,2023,0,,ATL,MIA,1,1,1.4,0.6,0.4,116,105\n").unwrap_err();
        assert!(error.to_string().contains("elo_prob1 1.4"));
    }

    #[test]
    fn parse_rejects_unknown_playoff_letter() {
        let error = parse("2023-04-11,2023,0,x,ATL,MIA,1,1,0.4,0.6,0.4,116,105\n").unwrap_err();
        assert!(error.to_string().contains("row 1"));
    }

    #[test]
    fn latest_counts_each_game_once() {
        // 1,125 + 1,112 + 1,318 + 1,315 played games; the early 2019-20 snapshot adds none.
        let games = load_latest(&data_dir()).unwrap();
        assert_eq!(games.len(), 4_870);
    }

    #[test]
    fn latest_ids_are_unique() {
        let games = load_latest(&data_dir()).unwrap();
        let ids: std::collections::HashSet<_> = games.iter().map(|game| &game.id).collect();
        assert_eq!(ids.len(), games.len());
    }

    #[test]
    fn latest_has_raptor_for_every_game() {
        let games = load_latest(&data_dir()).unwrap();
        assert!(games.iter().all(|game| game.raptor_prob1.is_some()));
    }

    #[test]
    fn latest_is_in_date_order() {
        let games = load_latest(&data_dir()).unwrap();
        assert!(games.windows(2).all(|pair| pair[0].date <= pair[1].date));
    }

    #[test]
    fn history_stops_before_2019_20() {
        let games = history();
        assert!(games.iter().all(|game| game.season.0 < FIRST_LATEST_SEASON));
    }

    #[test]
    fn history_recovers_regular_season_2017_18() {
        let games = history();
        let regular = games
            .iter()
            .filter(|game| game.season == Season(2018) && game.stage == Stage::Regular)
            .count();
        assert_eq!(regular, 1_230);
    }

    #[test]
    fn history_numbers_doubleheaders() {
        let games = history();
        let ids: std::collections::HashSet<_> = games.iter().map(|game| &game.id).collect();
        assert_eq!(ids.len(), games.len());
    }

    #[test]
    fn select_season_without_history_names_flag() {
        let error = select_season(Vec::new(), Some(Season(1990)), false).unwrap_err();
        assert!(error.to_string().contains("--history"));
    }
}
