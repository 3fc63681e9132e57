-- Markdown rendered once, when written, and stored beside its text: pages read the HTML instead of
-- rendering on every view. Null for rows written before this change: the site renders those on
-- their first read and stores the result.
alter table comments add column html text;
alter table news add column body_html text;
alter table torrents add column description_html text;
