"""Recurrent layers: the generic `RNN`, cells, SimpleRNN/LSTM/GRU and the
`Bidirectional` / `TimeDistributed` wrappers."""
