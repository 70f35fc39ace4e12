// Provided by the kata: complete, and identical in exercises/ and solutions/ (tests/Repo checks it). Do not change it.

namespace ConcurrencyKata;

/// <summary>
/// Thrown by <see cref="Bank.Transfer"/> and <see cref="Bank.TryTransfer"/> when the paying account holds less than
/// the amount. Nothing was transferred, and no lock is left held. <b>Provided by the kata, complete.</b>
/// </summary>
public sealed class InsufficientFundsException : Exception
{
    /// <summary>Creates the exception for account <paramref name="accountId"/>, which holds
    /// <paramref name="balance"/> and was asked to pay <paramref name="amount"/>.</summary>
    public InsufficientFundsException(string accountId, long balance, long amount)
        : base($"Insufficient funds: account '{accountId}' holds {balance}, so it cannot pay {amount}. Nothing was transferred.")
    {
        AccountId = accountId;
        Balance = balance;
        Amount = amount;
    }

    /// <summary>Creates the exception with a message of your own.</summary>
    public InsufficientFundsException(string message)
        : base(message)
    {
        AccountId = "";
    }

    /// <summary>Creates the exception with a message of your own and the exception that caused it.</summary>
    public InsufficientFundsException(string message, Exception innerException)
        : base(message, innerException)
    {
        AccountId = "";
    }

    /// <summary>Creates the exception with a default message.</summary>
    public InsufficientFundsException()
        : this("Insufficient funds.")
    {
    }

    /// <summary>The account that could not pay.</summary>
    public string AccountId { get; }

    /// <summary>Its balance when the transfer was refused.</summary>
    public long Balance { get; }

    /// <summary>The amount it was asked to pay.</summary>
    public long Amount { get; }
}
