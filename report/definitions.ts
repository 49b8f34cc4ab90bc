// The report's definitions in words, printed with every format so a figure is never read without them.
export const DEFINITIONS: readonly string[] = [
  'A visit is one rating press: a visitor rates once on leaving, while requests are pressed during a visit ' +
    'by people who may also rate, so they are counted separately ("all presses").',
  'Ratings: 0 Terrible, 1 Bad, 2 Neutral, 3 Good, 4 Amazing. Positive means Good or Amazing (3 or 4); ' +
    'a top rating is Amazing (4).',
  'Hours, "before 1 pm" (up to 12:59:59) and "from 1 pm" (13:00:00 on) and the date filter use the ' +
    'Europe/London wall clock, summer time included.',
  'Averages for floors and departments weight every rating equally, so busy exhibitions count for more.',
  'The average for assistance requests is taken over the exhibitions that sent at least one press in the ' +
    'period; an exhibition with no data is neither below nor above it.',
];
