// TernQueue
